// The migration dashboard page: polls /api/state, draws the table and two uPlot charts, and sends mode
// changes with the session's CSRF token. No build step; uPlot is the only library.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  const MODES = ['legacy', 'shadow', 'dual', 'target'];
  const charts = {};
  let current = null;

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children)
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  };

  async function api(path, body) {
    const init = body
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify(body),
          credentials: 'same-origin',
        }
      : { credentials: 'same-origin' };
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
    return data;
  }

  function verdict(v) {
    return el(
      'span',
      { class: v.ready ? 'ready' : 'notready' },
      v.ready ? 'ready' : 'not yet',
      el('span', { class: 'why' }, v.why),
    );
  }

  function drawChart(id, series, labels, colors) {
    const container = document.getElementById(id);
    const width = Math.max(300, container.clientWidth - 8);
    const data = [series.time, ...labels.map((l) => series[l])];
    if (charts[id]) {
      charts[id].setData(data);
      return;
    }
    charts[id] = new uPlot(
      {
        width,
        height: 200,
        series: [
          {},
          ...labels.map((label, i) => ({ label, stroke: colors[i], width: 2, points: { show: true } })),
        ],
        axes: [{}, { size: 50 }],
        scales: { x: { time: true } },
      },
      data,
      container,
    );
  }

  async function change(tenant, mode, reason) {
    const message = document.getElementById('message');
    try {
      const { change } = await api('/api/mode', { org: tenant, mode, reason });
      message.textContent = `${tenant}: ${change.previous ? change.previous.mode : 'none'} → ${change.value ? change.value.mode : 'none'} (v${change.version})`;
    } catch (err) {
      message.textContent = `${tenant}: not changed (${err.message})`;
    }
    await refresh();
  }

  async function rollback(tenant) {
    const message = document.getElementById('message');
    try {
      const { change } = await api('/api/rollback', { org: tenant, reason: 'rollback from the dashboard' });
      message.textContent = `${tenant}: rolled back to ${change.value ? change.value.mode : 'none'} (v${change.version})`;
    } catch (err) {
      message.textContent = `${tenant}: not rolled back (${err.message})`;
    }
    await refresh();
  }

  async function detail(tenant) {
    const { report, history } = await api(`/api/tenant?org=${encodeURIComponent(tenant)}`);
    document.getElementById('detail').hidden = false;
    document.getElementById('detail-name').textContent = tenant;
    const classes = document.querySelector('#detail-classes tbody');
    classes.replaceChildren(
      ...['decision', 'subject', 'org', 'scopes', 'roles'].map((c) =>
        el('tr', {}, el('th', {}, c), el('td', {}, report ? report.counts[c] : 0)),
      ),
    );
    document
      .getElementById('detail-history')
      .replaceChildren(
        ...history.map((h) =>
          el(
            'li',
            {},
            `v${h.version} ${h.at} ${h.previous ? h.previous.mode : 'none'} → ${h.value ? h.value.mode : 'none'} by ${h.actor}${h.reason ? ` — ${h.reason}` : ''}`,
          ),
        ),
      );
  }

  function row(t) {
    const select = el(
      'select',
      { 'aria-label': `mode of ${t.tenant}`, 'data-tenant': t.tenant },
      el('option', { value: 'none' }, 'default'),
      ...MODES.map((m) => el('option', { value: m }, m)),
    );
    select.value = t.mode || 'none';
    const reason = el('input', {
      type: 'text',
      placeholder: 'reason',
      'aria-label': `reason for ${t.tenant}`,
    });
    const c = t.counts;
    const last = t.lastChange
      ? `v${t.lastChange.version} ${t.lastChange.at.replace('T', ' ').slice(0, 19)} by ${t.lastChange.actor}`
      : '-';
    return el(
      'tr',
      { 'data-tenant': t.tenant },
      el(
        'td',
        { class: 'tenant' },
        el('button', { type: 'button', onclick: () => detail(t.tenant) }, t.tenant),
      ),
      el('td', { class: 'mode' }, t.mode || `default (${current.defaultMode || 'static'})`),
      el('td', {}, verdict(t.readiness.dual)),
      el('td', {}, verdict(t.readiness.target)),
      el('td', {}, `${c.comparisons} / ${c.comparisons - c.agreed} / ${c.refusedLegacy + c.refusedTarget}`),
      el('td', {}, last, t.lastChange?.reason ? el('span', { class: 'why' }, t.lastChange.reason) : ''),
      el(
        'td',
        { class: 'actions' },
        select,
        ' ',
        reason,
        ' ',
        el(
          'button',
          { type: 'button', class: 'apply', onclick: () => change(t.tenant, select.value, reason.value) },
          'Apply',
        ),
        ' ',
        el('button', { type: 'button', class: 'rollback', onclick: () => rollback(t.tenant) }, 'Rollback'),
      ),
    );
  }

  async function refresh() {
    try {
      current = await api('/api/state');
    } catch (err) {
      document.getElementById('summary').textContent =
        `store unreachable (${err.message}); showing the last data`;
      return;
    }
    const s = current;
    const rollout = s.rollout ? `, rollout ${s.rollout.mode} for ${s.rollout.percent}%` : '';
    document.getElementById('summary').textContent =
      `${s.store || 'store'} · version ${s.version} · default ${s.defaultMode || '(static config)'}${rollout} · updated ${s.generatedAt.slice(11, 19)}`;
    document.querySelector('#tenants tbody').replaceChildren(...s.tenants.map(row));
    drawChart('chart-divergence', s.series, ['comparisons', 'diverged'], ['#2f5bd3', '#c0392b']);
    drawChart('chart-refusals', s.series, ['refusals'], ['#a1461b']);
    document.body.dataset.loaded = 'true';
  }

  refresh();
  setInterval(() => {
    // Keep what the user is typing: skip a refresh while a control in the table has focus.
    if (!document.activeElement?.closest('#tenants')) refresh();
  }, 5000);
})();
