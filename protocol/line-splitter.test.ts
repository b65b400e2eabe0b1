// Framing rules of PROTOCOL.md §1 "Framing", at the level of the splitter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitter } from './line-splitter.ts';

function collect(splitter: LineSplitter, chunks: (string | Buffer)[]): { lines: string[]; results: string[] } {
  const lines: string[] = [];
  const results = chunks.map((c) => splitter.push(Buffer.isBuffer(c) ? c : Buffer.from(c), (l) => void lines.push(l)));
  return { lines, results };
}

test('a message written one byte at a time arrives as one line', () => {
  const text = '{"type":"ping","id":"é"}\n';
  const bytes = [...Buffer.from(text)].map((b) => Buffer.from([b]));
  const { lines } = collect(new LineSplitter(1000), bytes);
  assert.equal(lines, ['{"type":"ping","id":"é"}']);
});

test('two messages in one chunk are two lines', () => {
  const { lines } = collect(new LineSplitter(1000), ['{"a":1}\n{"b":2}\n']);
  assert.equal(lines, ['{"a":1}', '{"b":2}']);
});

test('a \\r before the \\n is dropped and empty lines are skipped', () => {
  const { lines } = collect(new LineSplitter(1000), ['a\r\n\n\r\nb\n']);
  assert.equal(lines, ['a', 'b']);
});

test('a line of exactly the limit including its end passes; one byte more is too long', () => {
  const max = 16;
  const ok = 'x'.repeat(max - 1) + '\n';
  assert.equal(collect(new LineSplitter(max), [ok]).results, ['ok']);
  const long = 'x'.repeat(max) + '\n';
  assert.equal(collect(new LineSplitter(max), [long]).results, ['too-long']);
});

test('an unterminated line that reaches the limit across chunks is too long before its end arrives', () => {
  const { results, lines } = collect(new LineSplitter(16), ['x'.repeat(10), 'x'.repeat(10)]);
  assert.equal(results, ['ok', 'too-long']);
  assert.equal(lines, []);
});

test('onLine returning false stops the rest of the chunk', () => {
  const lines: string[] = [];
  const r = new LineSplitter(100).push(Buffer.from('a\nb\nc\n'), (l) => {
    lines.push(l);
    return l !== 'b';
  });
  assert.is(r, 'stopped');
  assert.equal(lines, ['a', 'b']);
});

test.run();
