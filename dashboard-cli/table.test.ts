import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamingTable, renderTable } from './table.ts';

test('columns are as wide as their widest cell and separated by two spaces', () => {
  const lines = renderTable(
    [{ header: 'room' }, { header: 'sensor' }],
    [
      ['server-room', 'a'],
      ['hall', 'rack1-temp'],
    ],
  );
  assert.equal(lines, ['room         sensor', 'server-room  a', 'hall         rack1-temp']);
});

test('right-aligned columns put numbers flush right, header included', () => {
  const lines = renderTable(
    [{ header: 'metric' }, { header: 'value', align: 'right' }, { header: 'unit' }],
    [
      ['temperature', '-1234.25', 'C'],
      ['cpu_load', '7', '%'],
    ],
  );
  assert.equal(lines, ['metric          value  unit', 'temperature  -1234.25  C', 'cpu_load            7  %']);
});

test('lines carry no trailing spaces, even when the last cell is empty', () => {
  const lines = renderTable([{ header: 'a' }, { header: 'unit' }], [['xyz', '']]);
  assert.equal(lines, ['a    unit', 'xyz']);
});

test('widths count characters, so units like °C and µg/m³ line up', () => {
  const lines = renderTable(
    [{ header: 'unit' }, { header: 'n', align: 'right' }],
    [
      ['°C', '1'],
      ['µg/m³', '22'],
    ],
  );
  assert.equal(lines, ['unit    n', '°C      1', 'µg/m³  22']);
});

test('control characters in cells are replaced before measuring', () => {
  const lines = renderTable([{ header: 'x' }, { header: 'y' }], [['a\x1bb', 'c']]);
  assert.equal(lines, ['x    y', 'a?b  c']);
});

test('a header style is applied after padding and does not change the rows', () => {
  const lines = renderTable([{ header: 'a' }, { header: 'b' }], [['long', 'z']], { header: (l) => `<${l}>` });
  assert.equal(lines, ['<a     b>', 'long  z']);
});

test('a table with no rows is its header alone', () => {
  assert.equal(renderTable([{ header: 'a' }, { header: 'b' }], []), ['a  b']);
});

test('a streaming table holds its first rows to set the widths, then prints each row at once', () => {
  const table = new StreamingTable([{ header: 'room' }, { header: 'value', align: 'right' }], {}, 2);
  assert.equal(table.push(['hall', '1']), [], 'held: the sample is not full');
  assert.equal(table.push(['kitchen', '21.5']), ['room     value', 'hall         1', 'kitchen   21.5']);
  assert.equal(table.push(['bath', '3']), ['bath         3'], 'after the sample, at once, in its widths');
  assert.equal(table.push(['server-room', '40']), ['server-room     40'], 'a longer cell widens its column');
  assert.equal(table.end(), []);
  assert.is(table.rows, 4);
});

test('a streaming table shorter than its sample is printed whole at the end; an empty one is its header', () => {
  const short = new StreamingTable([{ header: 'a' }, { header: 'b' }]);
  assert.equal(short.push(['x', 'yy']), []);
  assert.equal(short.end(), ['a  b', 'x  yy']);
  assert.equal(new StreamingTable([{ header: 'a' }]).end(), ['a']);
});

test.run();
