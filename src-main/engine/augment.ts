/**
 * Light augmentation for the strong CNN: whole-pixel shifts of up to ±maxShift in each direction,
 * filled with background. MNIST digits sit centred by centre of mass with a 4 px margin, so small
 * shifts keep the digit inside the frame while teaching translation tolerance.
 */
export function shiftImage(
  src: Float32Array,
  dst: Float32Array,
  size: number,
  dx: number,
  dy: number,
): void {
  dst.fill(0);
  for (let y = 0; y < size; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= size) continue;
    const x0 = Math.max(0, dx);
    const x1 = Math.min(size, size + dx);
    const row = y * size;
    const srcRow = sy * size;
    for (let x = x0; x < x1; x++) dst[row + x] = src[srcRow + x - dx]!;
  }
}

export function randomShift(maxShift: number, random: () => number): number {
  return Math.floor(random() * (2 * maxShift + 1)) - maxShift;
}
