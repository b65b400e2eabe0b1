/**
 * "Upload CSV" (operators and admins): a file chosen with the picker or dropped on the page goes
 * to `POST /api/v1/readings` as it is (streamed by the browser, never read into the page), and
 * the answer is shown: the receipt (accepted, duplicates), or every bad line the hub listed.
 */
import { useState } from 'preact/hooks';
import type { BadRow, UploadBody } from '../../../protocol/api.ts';
import { ApiError, describeError, request } from '../api.ts';
import { plural } from '../format.ts';
import { DataTable } from './data-table.tsx';

type Result = { kind: 'receipt'; file: string; body: UploadBody } | { kind: 'refused'; file: string; message: string; rows: BadRow[] };

export function UploadView() {
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [over, setOver] = useState(false);

  const send = async (file: File): Promise<void> => {
    setBusy(file.name);
    setResult(null);
    try {
      const res = await request('/api/v1/readings', { method: 'POST', body: file, contentType: 'text/csv' });
      setResult({ kind: 'receipt', file: file.name, body: (await res.json()) as UploadBody });
    } catch (err) {
      const rows = err instanceof ApiError ? err.rows : [];
      setResult({ kind: 'refused', file: file.name, message: describeError(err), rows });
    } finally {
      setBusy(null);
    }
  };

  const onDrop = (event: DragEvent): void => {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer?.files[0];
    if (file) void send(file);
  };

  return (
    <section aria-labelledby="upload-title">
      <h1 id="upload-title">Upload CSV</h1>
      <p>
        Columns <code>ts,sensor,metric,value</code>, and optionally <code>room</code> and <code>unit</code> (as the export writes them). The
        whole file is stored, or nothing: a file with bad lines is refused, and every bad line is listed here.
      </p>
      <div
        class={`drop-zone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <label>
          CSV file{' '}
          <input
            type="file"
            accept=".csv,text/csv"
            disabled={busy !== null}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (file) void send(file);
            }}
          />
        </label>
        <p class="hint">or drop a file here</p>
      </div>
      <div aria-live="polite">
        {busy && <p>Uploading {busy}…</p>}
        {result?.kind === 'receipt' && (
          <p class="receipt" role="status">
            {result.file}: accepted {plural(result.body.accepted, 'reading')}, {plural(result.body.duplicates, 'duplicate')}.
          </p>
        )}
        {result?.kind === 'refused' && <Refusal result={result} />}
      </div>
    </section>
  );
}

function Refusal({ result }: { result: Extract<Result, { kind: 'refused' }> }) {
  return (
    <div class="refusal" role="alert">
      <p class="problem">
        {result.file} was refused, nothing was stored: {result.message}
      </p>
      {result.rows.length > 0 && (
        <DataTable label="Bad lines" columns={['Line', 'Problem']}>
          {result.rows.map((r) => (
            <tr key={r.line}>
              <th scope="row">{r.line}</th>
              <td>{r.message}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}
