import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ExportOutcome } from '../contract/api';
import type { ExportFormat } from '../contract/messages';
import { EXPORT_EXTENSIONS, EXPORT_FORMAT_LABELS } from '../shared/export-names';

/**
 * Where an export requested by a page is written. Never the page's choice (a page in serve mode
 * is a web page): the desktop app asks the user with its save dialog, serve mode writes into a
 * private temp folder and hands out a one-time download (serve/downloads.ts).
 */
export interface ExportDestination {
  /** A place for `fileName`, or null when the user cancelled. */
  choose(offer: { fileName: string; format: ExportFormat }): Promise<ExportPlace | null>;
}

export interface ExportPlace {
  /** Absolute path the worker writes to. */
  path: string;
  /** Whether an existing file there may be replaced (the user already agreed to it). */
  overwrite: boolean;
  /** What the page hears once the worker wrote `bytes` there. */
  done(bytes: number): ExportOutcome;
  /** The export failed: let go of whatever the place holds. */
  discard(): void;
}

/** The subset of Electron's `dialog.showSaveDialog` this needs, so it runs without Electron. */
export interface SaveDialogOptions {
  title: string;
  defaultPath: string;
  filters: { name: string; extensions: string[] }[];
}
export type ShowSaveDialog = (
  options: SaveDialogOptions,
) => Promise<{ canceled: boolean; filePath?: string }>;

/**
 * The desktop app's destination: the OS save dialog, opened in `defaultFolder` with the export's
 * name and a filter for its format. The dialog already asked before replacing a file, so the
 * worker may overwrite it; a name typed without the extension gets it (Keras refuses to load a
 * file not named *.keras, and tfjs without .zip would be a folder), and then an existing file
 * the dialog never asked about is kept.
 */
export function saveDialogDestination(
  show: ShowSaveDialog,
  defaultFolder: () => string,
): ExportDestination {
  return {
    async choose({ fileName, format }) {
      const extension = EXPORT_EXTENSIONS[format];
      const answer = await show({
        title: `Export as ${EXPORT_FORMAT_LABELS[format]}`,
        defaultPath: path.join(defaultFolder(), fileName),
        filters: [{ name: EXPORT_FORMAT_LABELS[format], extensions: [extension.slice(1)] }],
      });
      if (answer.canceled || !answer.filePath) return null;
      const chosen = path.resolve(answer.filePath);
      const named = chosen.toLowerCase().endsWith(extension);
      const out = named ? chosen : chosen + extension;
      // Said here, in the dialog's terms, rather than as the engine's "--overwrite" advice.
      if (!named && existsSync(out))
        throw new Error(`${out} already exists; pick it in the save dialog to replace it`);
      return {
        path: out,
        overwrite: named,
        done: (bytes) => ({ status: 'saved', path: out, bytes }),
        discard: () => {},
      };
    },
  };
}
