// The dashboard page: plain browser JS, no build step. It reads /api/v1/dashboard with the
// session cookie, fills the tables with textContent (never innerHTML: nothing from the server is
// markup) and plots the per-day series with uPlot (loaded before this file, from this server).
'use strict';

(function () {
  const LIVE_EVERY_MS = 5000;
  const DATA_EVERY_MS = 60000;
  // Series colours: saturated and used nowhere else on a chart (axes and grid are greys), so a
  // screenshot of a chart tells drawn data from an empty frame.
  const COLORS = {
    satisfaction: ['#1f6fd1', '#e8590c'],
    numbers: ['#2b8a3e', '#c2255c', '#5f3dc4', '#e67700', '#0b7285'],
    memory: ['#f03e3e'],
  };
  const CHART_HEIGHT = 220;

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const browserZone = (() => {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    } catch {
      return 'UTC';
    }
  })();
  const period = { days: params.get('days') || '14', tz: params.get('tz') || browserZone };
  const charts = [];

  const pct = (x) => (x === null || x === undefined ? '\u2013' : `${(x * 100).toFixed(1)} %`);
  const score = (x) => (x === null || x === undefined ? '\u2013' : x.toFixed(2));

  function setStatus(text, isError) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', Boolean(isError));
  }

  /** Replaces a table's body with one row per array of cell texts. */
  function fillTable(id, rows, emptyText) {
    const body = $(id).tBodies[0];
    body.replaceChildren();
    if (rows.length === 0) rows = [[emptyText]];
    for (const cells of rows) {
      const tr = body.insertRow();
      for (const text of cells) tr.insertCell().textContent = String(text);
      if (cells.length === 1) tr.cells[0].colSpan = $(id).tHead.rows[0].cells.length;
    }
  }

  function fillLegend(id, items) {
    const ul = $(id);
    ul.replaceChildren();
    for (const { label, color } of items) {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = color;
      li.append(swatch, document.createTextNode(label));
      ul.append(li);
    }
  }

  /**
   * A per-day chart: x is the day's index (labels MM-DD), one y scale per entry of `scales`.
   * `series`: { label, values, color, scale }. Nulls are gaps; points are drawn so that a day
   * alone between two gaps still shows.
   */
  function dayChart(id, days, scales, series) {
    const el = $(id);
    el.replaceChildren();
    el.dataset.colors = series.map((s) => s.color).join(',');
    el.dataset.series = String(series.length);
    const step = Math.max(1, Math.ceil(days.length / 10));
    const xSplits = () => days.map((_, i) => i).filter((i) => i % step === 0);
    const axes = [
      {
        splits: xSplits,
        values: (_u, splits) => splits.map((i) => (days[i] ? days[i].slice(5) : '')),
        stroke: '#444',
        grid: { stroke: '#e4e4e4' },
        ticks: { stroke: '#ccc' },
      },
    ];
    const scaleOpts = { x: { time: false, range: () => [-0.5, days.length - 0.5] } };
    scales.forEach((s, i) => {
      scaleOpts[s.name] = { range: s.range };
      axes.push({ scale: s.name, side: i === 0 ? 3 : 1, label: s.label, stroke: '#444', grid: { show: i === 0, stroke: '#e4e4e4' }, ticks: { stroke: '#ccc' }, values: s.values });
    });
    const opts = {
      width: Math.max(300, el.clientWidth || 600),
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: scaleOpts,
      axes,
      series: [{}].concat(
        series.map((s) => ({
          label: s.label,
          scale: s.scale,
          stroke: s.color,
          width: 2,
          spanGaps: false,
          points: { show: true, size: 7, stroke: s.color, fill: s.color },
        })),
      ),
    };
    const data = [days.map((_, i) => i)].concat(series.map((s) => s.values));
    const chart = new uPlot(opts, data, el);
    charts.push({ chart, el });
    fillLegend(id.replace('chart-', 'legend-'), series.map((s) => ({ label: s.label, color: s.color })));
    el.dataset.rendered = 'true';
  }

  const maxOf = (values, floor) => Math.max(floor, ...values.filter((v) => v !== null));

  function renderSatisfaction(d) {
    const daily = d.satisfaction.daily;
    const scores = daily.map((x) => x.averageScore);
    dayChart(
      'chart-satisfaction',
      d.days,
      [
        { name: 'score', label: 'Average score', range: () => [0, Math.ceil(maxOf(scores, 5))] },
        { name: 'pct', label: 'Response rate %', range: () => [0, 100] },
      ],
      [
        { label: 'Average score', values: scores, color: COLORS.satisfaction[0], scale: 'score' },
        { label: 'Response rate %', values: daily.map((x) => (x.responseRate === null ? null : x.responseRate * 100)), color: COLORS.satisfaction[1], scale: 'pct' },
      ],
    );
    const row = (r) => [r.key, r.offered, r.rated, pct(r.responseRate), score(r.averageScore)];
    fillTable('table-agents', d.satisfaction.byAgent.map(row), 'No surveys in this period.');
    fillTable('table-groups', d.satisfaction.byGroup.map(row), 'No surveys in this period.');
  }

  function renderNumbers(d) {
    const n = d.numbers;
    const top = n.busiest.slice(0, COLORS.numbers.length);
    const peak = maxOf(top.flatMap((t) => t.perDay), 1);
    dayChart(
      'chart-numbers',
      d.days,
      [{ name: 'calls', label: 'Calls', range: () => [0, Math.ceil(peak * 1.1)] }],
      top.map((t, i) => ({ label: t.number, values: t.perDay, color: COLORS.numbers[i], scale: 'calls' })),
    );
    const calls = n.daily.reduce((sum, x) => sum + x.calls, 0);
    $('numbers-summary').textContent = `${calls} outbound calls presented a caller ID, from ${n.used} distinct numbers; the pool holds ${n.poolSize}.`;
    fillTable(
      'table-busiest',
      n.busiest.map((t) => {
        const best = t.perDay.reduce((b, v, i) => (v > t.perDay[b] ? i : b), 0);
        return [t.number, t.calls, t.perDay.filter((v) => v > 0).length, `${d.days[best]} (${t.perDay[best]})`, t.inPool ? 'yes' : 'no'];
      }),
      'No outbound call presented a caller ID in this period.',
    );
    fillTable('table-tiers', n.tiers.map((t) => [t.tier, t.calls, t.fallback]), 'No outbound calls in this period.');
    const c = n.caps;
    $('caps-summary').textContent =
      c.capped === 0 ? 'No number has a daily cap.' : `${c.atCap} of ${c.capped} capped numbers reached their cap today (days in ${c.timeZone}); at 80 % or more:`;
    fillTable('table-caps', c.near.map((x) => [x.number, x.used, x.cap]), c.capped === 0 ? 'No caps.' : 'None near its cap.');
    $('unused-summary').textContent =
      n.unusedCount === 0 ? 'Every pool number was used.' : `${n.unusedCount} of ${n.poolSize} pool numbers were not used${n.unusedCount > n.unused.length ? ` (the first ${n.unused.length} listed)` : ''}.`;
    const ul = $('unused-list');
    ul.replaceChildren();
    for (const u of n.unused) {
      const li = document.createElement('li');
      li.textContent = u.enabled ? u.number : `${u.number} (disabled)`;
      ul.append(li);
    }
  }

  function renderMemory(d) {
    const m = d.memory;
    dayChart(
      'chart-memory',
      d.days,
      [{ name: 'pct', label: 'Hit rate %', range: () => [0, 100] }],
      [{ label: 'Hit rate %', values: m.daily.map((x) => (x.hitRate === null ? null : x.hitRate * 100)), color: COLORS.memory[0], scale: 'pct' }],
    );
    const t = m.total;
    $('memory-summary').textContent =
      (t.known === 0
        ? 'No inbound call came from a known caller'
        : `${t.rung + t.held} of ${t.known} inbound calls from known callers went to the remembered agent (${pct(t.hitRate)}: ${t.rung} rung, ${t.held} held for that agent)`) +
      `; ${m.unknownCaller} came from a withheld or unreadable number.`;
    fillTable(
      'table-memory',
      m.daily.filter((x) => x.known > 0).map((x) => [x.day, x.known, x.rung, x.held, pct(x.hitRate)]),
      'No inbound calls from known callers in this period.',
    );
    fillTable('table-misses', m.misses.map((x) => [x.reason.replaceAll('_', ' '), x.calls]), 'No misses.');
  }

  function renderLive(live) {
    $('live-pbx').textContent = live.pbxLink;
    $('live-db').textContent = live.database;
    $('live-queue').textContent = String(live.recordQueue);
    $('live-policy').textContent = live.policyConfigured ? 'applied' : 'not applied yet';
    for (const [id, good] of [
      ['live-pbx', live.pbxLink === 'up'],
      ['live-db', live.database === 'up'],
      ['live-policy', live.policyConfigured],
    ]) {
      $(id).className = good ? 'ok' : 'bad';
    }
    $('live-updated').textContent = `as of ${new Date().toLocaleTimeString()}`;
  }

  /** GET a JSON document of this server with the cookie; a lost session goes back to the login. */
  async function getJson(url) {
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401 || res.status === 403) {
      location.assign('/dashboard');
      throw new Error('signed out');
    }
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
    return body;
  }

  async function loadData() {
    const q = new URLSearchParams(period);
    try {
      const d = await getJson(`/api/v1/dashboard?${q}`);
      for (const c of charts.splice(0)) c.chart.destroy();
      renderSatisfaction(d);
      renderNumbers(d);
      renderMemory(d);
      renderLive(d.live);
      const n = d.days.length;
      setStatus(`${d.days[0]} to ${d.days[n - 1]} (${d.timeZone}), ${n} ${n === 1 ? 'day' : 'days'}.`);
      document.body.dataset.loaded = 'true';
    } catch (err) {
      setStatus(`Cannot load the figures: ${err.message}`, true);
    }
  }

  async function loadLive() {
    try {
      renderLive(await getJson('/api/v1/dashboard/live'));
    } catch (err) {
      $('live-updated').textContent = `live state unavailable: ${err.message}`;
    }
  }

  function start() {
    const form = $('period');
    form.elements.days.value = period.days;
    form.elements.tz.value = period.tz;
    window.addEventListener('resize', () => {
      for (const { chart, el } of charts) chart.setSize({ width: Math.max(300, el.clientWidth), height: CHART_HEIGHT });
    });
    loadData();
    setInterval(loadLive, LIVE_EVERY_MS);
    setInterval(loadData, DATA_EVERY_MS);
  }

  start();
})();
