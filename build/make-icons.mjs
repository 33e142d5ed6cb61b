/**
 * Draws the desktop app's icon (a database of stacked disks with an arrow coming in: data landing
 * in a store) and writes it as PNG files in build/icons/ (512×512, 256×256, 128×128, 64×64, 32×32,
 * 16×16), which electron-builder turns into each platform's icon format. Plain Node: shapes
 * computed per pixel with 4×4 supersampling, PNG written with zlib (no image library needed).
 *
 * `npm run build:icons` (the PNGs are committed; run it again only to change the icon).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'build', 'icons');

const BG = [31, 78, 121];
const DISK = [255, 255, 255];
const SIDE = [214, 228, 240];
const ARROW = [245, 166, 35];

/** The colour (with alpha) at a point of the unit square (0..1). */
function shade(x, y) {
  // Rounded square background.
  const r = 0.19;
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - r) + 0.02, 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - r) + 0.02, 0);
  if (Math.hypot(qx, qy) > r) return null;
  // The arrow (top centre, pointing down into the database).
  const ax = Math.abs(x - 0.5);
  if (y > 0.12 && y < 0.3 && ax < 0.045) return ARROW;
  if (y >= 0.3 && y < 0.42 && ax < 0.13 * (1 - (y - 0.3) / 0.12)) return ARROW;
  // Three disks: each an ellipse top over a side band.
  const cx = 0.5;
  const rx = 0.27;
  const ry = 0.075;
  for (const top of [0.5, 0.62, 0.74]) {
    const e = ((x - cx) / rx) ** 2 + ((y - top) / ry) ** 2;
    if (e <= 1) return DISK;
  }
  // Their sides: a band below each top, rounded by the same ellipse one band lower.
  for (const top of [0.5, 0.62, 0.74]) {
    const band = Math.abs(x - cx) <= rx && y > top && y <= top + 0.08;
    const bottom = ((x - cx) / rx) ** 2 + ((y - top - 0.08) / ry) ** 2 <= 1;
    if (band || bottom) return SIDE;
  }
  return BG;
}

function render(size) {
  const rgba = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = shade((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
          if (!c) continue;
          r += c[0]; g += c[1]; b += c[2]; a += 1;
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        rgba[i] = Math.round(r / a);
        rgba[i + 1] = Math.round(g / a);
        rgba[i + 2] = Math.round(b / a);
      }
      rgba[i + 3] = Math.round((255 * a) / (n * n));
    }
  }
  return rgba;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

await mkdir(outdir, { recursive: true });
for (const size of [512, 256, 128, 64, 32, 16]) {
  await writeFile(join(outdir, `${size}x${size}.png`), png(size, render(size)));
}
// electron-builder's default names: icon.png for macOS and Windows (converted), the folder for Linux.
await writeFile(join(outdir, 'icon.png'), png(512, render(512)));
console.log(`icons written to ${outdir}`);
