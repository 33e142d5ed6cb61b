/**
 * Child process of the benchmarks: decrypt → gunzip → parse of one daily log with the product's
 * readers as built (`dist/`), storing nothing. Prints one JSON line: events, seconds, peak RSS.
 * Separates the cost of decoding from the cost of the store in `npm run bench`.
 *
 *   node bench/parse-child.mjs KEYFILE FILE
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createOpenPgpDecryptor } from '../dist/core/crypto/openpgp-decryptor.js';
import { gunzipStream } from '../dist/core/formats/gunzip.js';
import { readLines } from '../dist/core/formats/lines.js';
import { readEvents } from '../dist/core/formats/tracking-log.js';

const [keyFile, file] = process.argv.slice(2);
if (!keyFile || !file) {
  process.stderr.write('usage: parse-child.mjs KEYFILE FILE\n');
  process.exit(1);
}
const decryptor = await createOpenPgpDecryptor({ armoredKeys: [await readFile(keyFile, 'utf8')] });
const started = process.hrtime.bigint();
const plain = await decryptor.decrypt(createReadStream(file, { highWaterMark: 1 << 20 }), file);
const gunzip = gunzipStream();
pipeline(plain, gunzip, () => undefined);
let events = 0;
for await (const batch of readEvents(readLines(gunzip), { fileName: file })) events += batch.events.length;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ events, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
