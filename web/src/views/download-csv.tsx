/**
 * "Download CSV": exactly the data in view, through the hub's own export (history.csv with the
 * room, the x range on screen and the charts' `every`), saved under the name the hub gives it.
 * The browser downloads it with the session cookie; the page never holds the file.
 */
import { historyUrl } from '../room/room-data.ts';
import type { Every, Span } from '../room/view-window.ts';

export function DownloadCsv({ room, span, every }: { room: string; span: Span; every: Every }) {
  const save = (): void => {
    const a = document.createElement('a');
    a.href = historyUrl(room, { from: Math.floor(span.from), to: Math.ceil(span.to) }, every, 'iso');
    a.download = '';
    document.body.append(a);
    a.click();
    a.remove();
  };
  return (
    <button type="button" onClick={save} title={`buckets of ${every.text}, as the charts show them`}>
      Download CSV
    </button>
  );
}
