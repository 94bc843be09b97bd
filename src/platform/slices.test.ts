import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TimeSlice } from './slices.js';
import { SlicedJsonWriter } from './http/json-writer.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('time slices', () => {
  it('run one slice per turn of the event loop however many long jobs are waiting: timers get in between every two', async () => {
    const log: string[] = [];
    const timer = setInterval(() => log.push('tick'), 1);
    const job = async (name: string) => {
      const slice = new TimeSlice(2);
      for (let k = 0; k < 6; k++) {
        busy(3);
        log.push(name);
        await slice.pause();
      }
    };
    await Promise.all(['a', 'b', 'c', 'd'].map(job));
    clearInterval(timer);
    // The first slices ran back to back as the jobs were called; from then on, never two slices in one turn.
    const rest = log.slice(4);
    for (let i = 1; i < rest.length; i++) assert.ok(!(rest[i] !== 'tick' && rest[i - 1] !== 'tick'), `a timer ran between slices ${i - 1} and ${i}: ${rest.join(' ')}`);
    for (const name of ['a', 'b', 'c', 'd']) assert.equal(log.filter((e) => e === name).length, 6);
  });

  it('a sliced JSON writer gives the text it was given, in order', async () => {
    const values = Array.from({ length: 5000 }, (_, i) => i * 0.5);
    const out = new SlicedJsonWriter().text('{"v":[');
    await out.list(values.length, (a, b) => values.slice(a, b).join(','), 700);
    out.text('],"k":"é"}');
    assert.deepEqual(JSON.parse(out.toBuffer().toString('utf8')), { v: values, k: 'é' });
    const empty = new SlicedJsonWriter().text('[');
    await empty.list(0, () => 'x');
    assert.equal(empty.text(']').toBuffer().toString(), '[]');
  });
});
