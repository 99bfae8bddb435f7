import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'vitest';
import { coalesce } from '../../src/store/coalesce.js';

describe('coalesced reloads', () => {
  test('one at a time; requests made during a run become exactly one more run', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const reload = coalesce(async () => {
      runs++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(30);
      running--;
    });
    const first = reload();
    await sleep(5);
    const during = [reload(), reload(), reload(), reload()];
    await Promise.all([first, ...during]);
    assert.equal(runs, 2);
    assert.equal(maxRunning, 1);
    await reload();
    assert.equal(runs, 3);
  });

  test('a failed run rejects its requesters; the next request runs again', async () => {
    let fail = true;
    let runs = 0;
    const reload = coalesce(async () => {
      runs++;
      await sleep(10);
      if (fail) throw new Error('database down');
    });
    const a = reload();
    await sleep(2);
    const b = reload(); // queued behind a
    fail = true;
    await assert.rejects(a, /database down/);
    fail = false;
    await b;
    assert.equal(runs, 2);
  });

  test('a request queued after a run began sees a run that started after it', async () => {
    const starts: number[] = [];
    const reload = coalesce(async () => {
      starts.push(Date.now());
      await sleep(20);
    });
    void reload();
    await sleep(10);
    const askedAt = Date.now();
    await reload();
    assert.ok(starts[1]! >= askedAt);
  });
});
