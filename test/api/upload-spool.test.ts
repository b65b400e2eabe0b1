// docs/API.md "POST /api/v1/readings" and docs/ADMIN.md: an upload's body is spooled to
// DATA/tmp/uploads while it arrives. A body that stalls (no data for uploadIdleTimeoutMs) or
// trickles (not whole within uploadBodyTimeoutMs) is answered 408 request_timeout with the
// contract's error body, and its spool file is removed. Uploads beyond maxConcurrentUploads are
// refused (429) before their body is read. A hub killed with SIGKILL mid-upload
// leaves the file (and any DuckDB spill) behind: the next start removes them.
import { existsSync } from 'node:fs';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorBody, upload, uploadOk, waitFor, type RawResponse } from '../support/api-client.ts';
import { startHub, startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const HEADER = 'ts,sensor,room,metric,value,unit\n';

interface OpenUpload {
  req: http.ClientRequest;
  response: Promise<RawResponse>;
}

/** A chunked upload whose body the test writes piece by piece; `response` settles when the hub answers. */
function openUpload(port: number): OpenUpload {
  let req!: http.ClientRequest;
  const response = new Promise<RawResponse>((resolve, reject) => {
    req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/readings',
        agent: false,
        headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
  perTest.add('open upload', () => req.destroy());
  return { req, response };
}

const spoolFiles = async (dataDir: string): Promise<string[]> => {
  const dir = join(dataDir, 'tmp', 'uploads');
  return existsSync(dir) ? (await readdir(dir)).filter((n) => n.startsWith('upload-')) : [];
};

test('a body that stops arriving is answered 408 request_timeout after the idle timeout, and its spool file is removed', async () => {
  const h = await startHub({ uploadIdleTimeoutMs: 300, uploadBodyTimeoutMs: 60_000 });
  const up = openUpload(h.httpPort);
  up.req.write(HEADER + `${nextTs()},spool-stall,lab,temperature,1,C\n`);
  await waitFor('the spool file', async () => (await spoolFiles(h.dataDir)).length === 1);
  const res = await withTimeout(up.response, 10_000, 'the answer to a stalled upload');
  assert.is(res.status, 408, res.text);
  const e = errorBody(res);
  assert.is(e.code, 'request_timeout');
  assert.match(e.message, /stalled/);
  assert.equal(await spoolFiles(h.dataDir), [], 'no spool file left');
  // The hub goes on taking uploads.
  assert.equal(await uploadOk(h.httpPort, HEADER + `${nextTs()},spool-after,lab,temperature,1,C\n`), { accepted: 1, duplicates: 0 });
});

test('a body trickled a few bytes at a time is answered 408 once the whole-body timeout has passed', async () => {
  const h = await startHub({ uploadIdleTimeoutMs: 10_000, uploadBodyTimeoutMs: 800 });
  const up = openUpload(h.httpPort);
  up.req.write(HEADER);
  const row = `${nextTs()},spool-trickle,lab,temperature,1,C\n`;
  let i = 0;
  const trickle = setInterval(() => up.req.write(row[i++ % row.length]!), 50);
  try {
    const res = await withTimeout(up.response, 10_000, 'the answer to a trickled upload');
    assert.is(res.status, 408, res.text);
    assert.is(errorBody(res).code, 'request_timeout');
    assert.match(errorBody(res).message, /did not arrive within 1 s/);
  } finally {
    clearInterval(trickle);
  }
  assert.equal(await spoolFiles(h.dataDir), []);
});

test('uploads beyond maxConcurrentUploads are refused with 429 and Retry-After while the others arrive', async () => {
  // docs/API.md: each upload holds a spool file of up to the size limit; how many at once is bounded
  const h = await startHub({ maxConcurrentUploads: 1 });
  const first = openUpload(h.httpPort);
  first.req.write(HEADER + `${nextTs()},spool-slot-1,lab,temperature,1,C\n`);
  await waitFor('the first spool file', async () => (await spoolFiles(h.dataDir)).length === 1);
  const second = await upload(h.httpPort, HEADER + `${nextTs()},spool-slot-2,lab,temperature,1,C\n`);
  assert.is(second.status, 429, second.text);
  assert.is(errorBody(second).code, 'too_many_uploads');
  assert.ok(Number(second.headers['retry-after']) > 0, 'Retry-After');
  first.req.end();
  assert.is((await withTimeout(first.response, 10_000, 'the first upload')).status, 200);
  assert.equal(await uploadOk(h.httpPort, HEADER + `${nextTs()},spool-slot-2,lab,temperature,1,C\n`), { accepted: 1, duplicates: 0 });
});

test('a hub killed with SIGKILL mid-upload removes the spool file and DuckDB spill files at its next start, and nothing else', async () => {
  const dir = await tempDataDir();
  const first = await startHubProcess({ dataDir: dir.path });
  const up = openUpload(first.httpPort);
  up.response.catch(() => {}); // the hub dies before it answers
  up.req.write(HEADER + `${nextTs()},spool-killed,lab,temperature,1,C\n`);
  const [spooled] = await waitFor('the spool file', async () => {
    const files = await spoolFiles(dir.path);
    return files.length > 0 && files;
  });
  // A query over the memory limit spills to the store's temp folder; DuckDB removes those files
  // when it closes, so after a kill they stay. Names as DuckDB 1.x gives them.
  const tmp = join(dir.path, 'tmp');
  await mkdir(tmp, { recursive: true });
  const spills = ['duckdb_temp_storage_S32K-0.tmp', 'duckdb_temp_storage_DEFAULT-0.tmp', 'duckdb_temp_block-4611686018427388000.block'];
  for (const f of [...spills, 'operator-notes.txt']) await writeFile(join(tmp, f), 'x');
  first.kill('SIGKILL');
  assert.is((await first.exited).signal, 'SIGKILL');
  assert.ok(existsSync(join(tmp, 'uploads', spooled!)), 'the killed hub left its spool file');

  const second = await startHubProcess({ dataDir: dir.path });
  assert.equal(await spoolFiles(dir.path), [], 'spool files removed at start');
  const left = (await readdir(tmp)).filter((n) => n !== 'uploads').sort();
  assert.equal(left, ['operator-notes.txt'], 'DuckDB spill files removed, other files kept');
  assert.match(second.output(), /removed files a stopped upload left behind/);
  assert.equal(await uploadOk(second.httpPort, HEADER + `${nextTs()},spool-restarted,lab,temperature,1,C\n`), {
    accepted: 1,
    duplicates: 0,
  });
});

test.run();
