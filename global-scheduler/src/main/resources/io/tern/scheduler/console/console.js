'use strict';
// The Tern SRE console: reads the scheduler's admin API every second with the SRE token, and moves regions
// after a confirm step. The token lives in this tab's session storage only; every value from the API is put
// in the page as text, never as markup.
(function () {
  const TOKEN_KEY = 'tern.sre-token';
  const REFRESH_MS = 1000;
  const $ = id => document.getElementById(id);
  let token = sessionStorage.getItem(TOKEN_KEY);
  let policyVersion = null;
  let regions = [];
  let timer = null;
  let pending = null;

  class ApiError extends Error {
    constructor(status, body) {
      super(body && body.message ? body.message : 'HTTP ' + status);
      this.status = status;
      this.code = body && body.code;
    }
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = Object.assign({ 'Authorization': 'Bearer ' + token }, opts.headers || {});
    const res = await fetch(path, { method: opts.method || 'GET', headers: headers, body: opts.body,
      cache: 'no-store' });
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = { message: text }; }
    if (res.status === 401) {
      signOut('The SRE token was refused: sign in again.');
      throw new ApiError(401, body);
    }
    if (!res.ok) {
      throw new ApiError(res.status, body);
    }
    return body;
  }

  // ---- sign in / out

  async function signIn(event) {
    event.preventDefault();
    const given = $('token').value.trim();
    if (!given) {
      $('login-error').textContent = 'Enter the SRE token.';
      return;
    }
    token = given;
    try {
      await api('/v1/regions');
    } catch (e) {
      if (e.status !== 401) {
        $('login-error').textContent = 'The scheduler did not answer: ' + e.message;
      }
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    start();
  }

  function signOut(why) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    timer = null;
    $('app').hidden = true;
    $('status').hidden = true;
    $('confirm').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = why || '';
  }

  function start() {
    $('login').hidden = true;
    $('login-error').textContent = '';
    $('app').hidden = false;
    $('status').hidden = false;
    refresh();
  }

  // ---- refresh

  async function refresh() {
    clearTimeout(timer);
    await Promise.all([
      section('regions', '/v1/regions', renderRegions),
      section('brokers', '/v1/brokers', renderBrokers),
      section('throttle', '/v1/throttle', renderThrottle),
      section('buffer', '/v1/scale', renderBuffer),
      section('tasks', '/v1/tasks?limit=20', renderTasks),
      section('history', '/v1/regions/history?limit=10', renderHistory),
    ]);
    if (token) {
      $('updated').textContent = new Date().toLocaleTimeString();
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  async function section(name, path, render) {
    try {
      render(await api(path));
      $(name + '-error').textContent = '';
    } catch (e) {
      if (e.status !== 401) {
        $(name + '-error').textContent = e.message;
      }
    }
  }

  // ---- tables: rows keyed by id, updated in place so a button under the pointer survives a refresh

  function syncRows(table, items, key, fill) {
    const body = $(table).tBodies[0];
    const keep = new Set();
    items.forEach((item, i) => {
      const id = String(key(item));
      keep.add(id);
      let row = Array.from(body.rows).find(r => r.dataset.key === id);
      if (!row) {
        row = document.createElement('tr');
        row.dataset.key = id;
      }
      if (body.rows[i] !== row) {
        body.insertBefore(row, body.rows[i] || null);
      }
      fill(row, item);
    });
    Array.from(body.rows).filter(r => !keep.has(r.dataset.key)).forEach(r => r.remove());
  }

  /** Cell {@code cls} of the row, created on first use, set to {@code text}. */
  function cell(row, cls, text, numeric) {
    let td = row.querySelector('td.' + cls);
    if (!td) {
      td = document.createElement('td');
      td.className = cls + (numeric ? ' num' : '');
      row.appendChild(td);
    }
    if (text !== undefined && td.textContent !== String(text)) {
      td.textContent = String(text);
    }
    return td;
  }

  const fmt = v => v === null || v === undefined ? '-' : typeof v === 'number' ? v.toLocaleString('en') : String(v);
  const rate = v => v === null || v === undefined ? '-' : Number(v).toFixed(1);

  function renderRegions(body) {
    policyVersion = body.version;
    regions = body.regions;
    $('policy-version').textContent = String(body.version);
    syncRows('regions', body.regions, r => r.name, (row, r) => {
      cell(row, 'name', r.name);
      const state = cell(row, 'state', r.state);
      state.className = 'state state-' + r.state;
      cell(row, 'served-by', r.servedBy);
      cell(row, 'brokers', fmt(r.brokers), true);
      cell(row, 'connections', fmt(r.connections), true);
      cell(row, 'deliveries', rate(r.deliveriesPerSecond), true);
      cell(row, 'move', describeMove(r.move));
      renderActions(cell(row, 'actions'), r);
    });
  }

  function describeMove(m) {
    if (!m) {
      return '';
    }
    const paused = m.paused ? ' paused: ' + (m.pausedReason || '') : '';
    return m.direction + ' ' + m.from + ' \u2192 ' + m.to + ', stage ' + (m.stage + 1) + '/' + m.stages + ', '
      + fmt(m.moved) + ' moved, ' + fmt(m.left) + ' left, ' + rate(m.currentRatePerSecond) + '/s of '
      + m.ratePerSecond + '/s' + paused;
  }

  function renderActions(td, r) {
    if (!td.firstChild) {
      const select = document.createElement('select');
      select.className = 'failover-to';
      select.setAttribute('aria-label', 'fail over to');
      const over = document.createElement('button');
      over.type = 'button';
      over.className = 'failover';
      over.textContent = 'Fail over\u2026';
      over.addEventListener('click', () => ask({ action: 'failover', region: r.name, to: select.value }));
      const back = document.createElement('button');
      back.type = 'button';
      back.className = 'failback';
      back.textContent = 'Fail back\u2026';
      back.addEventListener('click', () => ask({ action: 'failback', region: r.name }));
      td.append(select, over, back);
    }
    const select = td.querySelector('select');
    const targets = regions.filter(o => o.name !== r.name && o.state === 'active' && o.brokers > 0).map(o => o.name);
    const current = Array.from(select.options).map(o => o.value);
    if (current.join() !== targets.join()) {
      const chosen = select.value;
      select.replaceChildren(...targets.map(t => new Option(t, t)));
      if (targets.includes(chosen)) {
        select.value = chosen;
      }
    }
    td.querySelector('.failover').disabled = r.state !== 'active' || targets.length === 0;
    td.querySelector('.failback').disabled = r.state !== 'failed-over';
  }

  function renderBrokers(body) {
    syncRows('brokers', body.brokers, b => b.id, (row, b) => {
      cell(row, 'id', b.id);
      cell(row, 'region', b.region);
      cell(row, 'connections', fmt(b.connections), true);
      cell(row, 'deliveries', rate(b.deliveriesPerSecond), true);
      cell(row, 'delivered', fmt(b.delivered), true);
      cell(row, 'capacity', b.capacityPerSecond ? fmt(b.capacityPerSecond) : '-', true);
      cell(row, 'started', new Date(b.startedAt).toLocaleTimeString());
    });
  }

  function renderThrottle(body) {
    const d = body.directive;
    $('throttle-state').textContent = body.state || (body.directiveError ? 'invalid: ' + body.directiveError : '-');
    $('throttle-permit').textContent = d ? fmt(d.permitPerSecond) : '-';
    $('throttle-source').textContent = d ? d.source + (d.reason ? ' (' + d.reason + ')' : '') : '-';
    $('throttle-downstream').textContent = rate(body.downstreamPerSecond);
    $('throttle-capacity').textContent = fmt(body.capacityPerSecond);
    $('throttle-utilisation').textContent = body.utilisation === null || body.utilisation === undefined
      ? '-' : (body.utilisation * 100).toFixed(1) + ' %';
  }

  function renderBuffer(body) {
    // An unread lag is said with its reason, never shown as 0.
    $('buffer-lag').textContent = body.lag === null ? 'unknown: ' + body.lagError
      : fmt(body.lag) + ' records over ' + body.partitions + ' partitions';
    $('buffer-replicas').textContent = body.replicas === null ? '-' : fmt(body.replicas)
      + (body.targetReplicas === null ? '' : ' (target ' + body.targetReplicas + ')');
    $('buffer-mode').textContent = body.mode + (body.error ? ': ' + body.error : '');
  }

  function renderTasks(body) {
    syncRows('tasks', body.tasks, t => t.taskId, (row, t) => {
      cell(row, 'task', t.taskId);
      cell(row, 'app', t.app);
      cell(row, 'kind', t.kind);
      cell(row, 'state', t.state + (t.reason ? ': ' + t.reason : ''));
      cell(row, 'created', new Date(t.createdAt).toLocaleTimeString());
      ['targeted', 'sent', 'delivered', 'offline', 'expired', 'invalid']
        .forEach(c => cell(row, c, fmt(t[c]), true));
    });
  }

  function renderHistory(body) {
    $('history').replaceChildren(...body.changes.map(c => {
      const li = document.createElement('li');
      li.textContent = 'v' + c.version + ' ' + c.at + ' ' + c.by + ' ' + c.action + ' ' + (c.region || '')
        + (c.detail ? ': ' + c.detail : '');
      return li;
    }));
  }

  // ---- region moves: nothing is sent before the SRE confirms, and only onto the policy version they saw

  function ask(move) {
    pending = Object.assign({ version: policyVersion }, move);
    $('confirm-title').textContent = move.action === 'failover' ? 'Fail over ' + move.region : 'Fail back ' + move.region;
    $('confirm-text').textContent = move.action === 'failover'
      ? 'Move the devices of ' + move.region + ' to ' + move.to + ' (policy version ' + policyVersion + '). '
        + move.region + ' stops serving until it is failed back.'
      : 'Move the devices at home in ' + move.region + ' back to it (policy version ' + policyVersion + ').';
    $('confirm-rate').value = '';
    $('confirm-reason').value = '';
    $('confirm-error').textContent = '';
    $('confirm').hidden = false;
    $('confirm-reason').focus();
  }

  function cancel() {
    pending = null;
    $('confirm').hidden = true;
  }

  async function confirmMove(event) {
    event.preventDefault();
    if (!pending) {
      return;
    }
    const move = pending;
    const body = {};
    if (move.action === 'failover') {
      body.to = move.to;
    }
    const r = $('confirm-rate').value.trim();
    if (r) {
      body.ratePerSecond = Number(r);
    }
    const reason = $('confirm-reason').value.trim();
    if (reason) {
      body.reason = reason;
    }
    $('confirm-go').disabled = true;
    try {
      const done = await api('/v1/regions/' + encodeURIComponent(move.region) + '/' + move.action, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'If-Match': String(move.version) },
        body: JSON.stringify(body) });
      pending = null;
      $('confirm').hidden = true;
      $('notice').textContent = (move.action === 'failover' ? 'Failover of ' + move.region + ' to ' + move.to
        : 'Failback of ' + move.region) + ' accepted: policy version ' + done.version + '.';
      refresh();
    } catch (e) {
      $('confirm-error').textContent = e.code === 'version_conflict'
        ? 'The policy changed since you opened this (' + e.message + '). Cancel, look again, and retry.'
        : e.message;
    } finally {
      $('confirm-go').disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', () => signOut(''));
    $('confirm-form').addEventListener('submit', confirmMove);
    $('confirm-cancel').addEventListener('click', cancel);
    if (token) {
      start();
    }
  });
})();
