import { describe, expect, it } from 'vitest';
import { exportFileName, fileNameBase } from '../../src-main/shared/export-names';

describe('export file names', () => {
  it('are the run’s name, or its id, with the epoch and the format’s extension', () => {
    expect(exportFileName({ runId: 'r-1', name: 'first CNN' }, 3, 'onnx')).toBe(
      'first CNN-epoch3.onnx',
    );
    expect(exportFileName({ runId: 'r-1', name: null }, 12, 'keras')).toBe('r-1-epoch12.keras');
    expect(exportFileName({ runId: 'r-1' }, 1, 'tfjs')).toBe('r-1-epoch1.zip');
  });

  it.each([
    ['../../etc/passwd', 'etc-passwd'],
    ['C:\\Windows\\system32', 'C-Windows-system32'],
    ['.hidden', 'hidden'],
    ['trailing dot.', 'trailing dot'],
    ['  spaced   out  ', 'spaced out'],
    ['tab\there', 'tab-here'],
    ['quote"and<angle>|pipe?*', 'quote-and-angle-pipe'],
    ['Ziffer β 数字', 'Ziffer β 数字'],
    ['e\u0301', '\u00e9'],
  ])('make %j safe as %j', (name, safe) => {
    expect(fileNameBase(name)).toBe(safe);
  });

  it('fall back to the run id when nothing of the name is left, and stay short', () => {
    expect(exportFileName({ runId: 'r-1', name: '///...' }, 1, 'onnx')).toBe('r-1-epoch1.onnx');
    expect(exportFileName({ runId: 'r-1', name: '' }, 1, 'onnx')).toBe('r-1-epoch1.onnx');
    expect(fileNameBase('x'.repeat(200))).toHaveLength(80);
  });
});
