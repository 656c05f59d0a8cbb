/** The app's panels, in tab order: App shows one; a panel may send the user to another. */
export const PANELS = [
  { id: 'train', label: 'Train' },
  { id: 'sweep', label: 'Sweep' },
  { id: 'checkpoints', label: 'Checkpoints' },
  { id: 'draw', label: 'Draw' },
  { id: 'evaluate', label: 'Evaluate' },
] as const;

export type Panel = (typeof PANELS)[number]['id'];
