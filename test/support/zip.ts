/**
 * A zip archive in memory (yazl), as the edX exporter's weekly packages are: one entry per member.
 */
import yazl from 'yazl';

/** The zip of `entries`, in their order. */
export function zipOf(entries: { name: string; data: string | Uint8Array }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(Buffer.from(e.data), e.name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
