// brainstorm-proxy dashboard (docs/dashboard.md). Plain JavaScript, no library, nothing fetched from
// outside the admin listener. Everything shown comes from the server and may be attacker-controlled
// (model names, error codes, key and tenant names): the DOM is built with createElement and
// textContent only, never innerHTML.
'use strict';

(function () {
  const FEED_ROWS = 200;
  const REFRESH_MS = 5000;
  const PAGES = ['live', 'models', 'budgets', 'circuits', 'providers', 'keys'];

  const state = {
    principal: null,   // {role, tenant, key_id}
    csrf: null,        // the session's CSRF token, sent as X-CSRF-Token on every change
    apiPort: null,
    tenants: [],       // ids the principal may see
    tenant: '',        // the tenant selector's choice; '' = all (super-admin only)
    page: 'live',
    feed: [],          // newest first, at most FEED_ROWS
    seen: new Set(),   // request ids in feed
    events: null,      // the EventSource
    feedColumns: null, // the feed's colgroup and head as in the page, before a tenant admin's login
    timer: null,
    generation: 0,     // grows at each logout: answers to an earlier session's requests are dropped
  };

  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers: text only ----

  function el(tag, opts, children) {
    const e = document.createElement(tag);
    if (opts) {
      if (opts.cls) e.className = opts.cls;
      if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
      if (opts.title !== undefined && opts.title !== null) e.title = String(opts.title);
    }
    if (children) {
      for (const c of children) {
        if (c) e.append(c);
      }
    }
    return e;
  }

  function cell(text, cls, title) {
    return el('td', { cls: cls, text: text, title: title === undefined ? text : title });
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---- numbers ----

  /** USD with sensible precision: $12.34, $0.50, $0.012, $0.000046. */
  function usd(v) {
    if (v === null || v === undefined) return '—';
    const n = Number(v);
    if (!Number.isFinite(n)) return '—';
    if (n === 0) return '$0.00';
    const a = Math.abs(n);
    const sign = n < 0 ? '-' : '';
    if (a >= 1) {
      return sign + '$' + a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    // two significant digits, at least two decimals
    const decimals = Math.min(12, Math.max(2, 1 - Math.floor(Math.log10(a))));
    return sign + '$' + a.toFixed(decimals);
  }

  /** Milliseconds: one decimal under 10 ms, else whole. */
  function ms(v) {
    if (v === null || v === undefined) return '—';
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) return '—';
    if (n < 10) return n.toFixed(1) + ' ms';
    return Math.round(n).toLocaleString('en-US') + ' ms';
  }

  function count(v) {
    if (v === null || v === undefined) return '—';
    return Number(v).toLocaleString('en-US');
  }

  function percent(v) {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) return '—';
    return (Number(v) * 100).toFixed(1) + ' %';
  }

  function clock(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '—';
    return d.toLocaleTimeString('en-GB', { hour12: false });
  }

  function dateTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '—';
    return d.toLocaleString('en-GB', { hour12: false, year: 'numeric', month: 'short', day: 'numeric',
      hour: '2-digit', minute: '2-digit' });
  }

  // ---- the admin API ----

  class ApiFailure extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const generation = state.generation;
    const headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    const r = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    let data = null;
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
    if (generation !== state.generation) {
      throw new ApiFailure(0, 'stale', 'An answer for the previous session was dropped.');
    }
    if (!r.ok) {
      const err = data && data.error ? data.error : {};
      if (r.status === 401 && state.principal && !path.startsWith('/dashboard/login')) {
        loggedOut('Your session ended; log in again.');
      }
      throw new ApiFailure(r.status, err.code || null, err.message || ('HTTP ' + r.status));
    }
    return data;
  }

  const enc = encodeURIComponent;

  function banner(message) {
    const b = $('banner');
    if (message) {
      b.textContent = message;
      b.hidden = false;
    } else {
      b.textContent = '';
      b.hidden = true;
    }
  }

  // ---- login and session ----

  async function boot() {
    const feed = $('feed');
    state.feedColumns = [feed.querySelector('colgroup').cloneNode(true), feed.querySelector('thead').cloneNode(true)];
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('tenant-select').addEventListener('change', () => {
      state.tenant = $('tenant-select').value;
      renderFeed();
      showPage(state.page);
    });
    window.addEventListener('hashchange', () => showPage(pageFromHash()));
    $('provider-form').addEventListener('submit', onSetProvider);
    $('key-form').addEventListener('submit', onCreateKey);
    $('secret-copy').addEventListener('click', onCopySecret);
    $('secret-close').addEventListener('click', closeSecret);
    $('secret-dialog').addEventListener('cancel', closeSecret);
    try {
      const s = await api('GET', '/dashboard/session');
      await start(s);
    } catch (e) {
      showLogin('');
    }
  }

  function showLogin(message) {
    $('app-view').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    $('token').focus();
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const input = $('token');
    const token = input.value.trim();
    input.value = '';
    $('login-error').textContent = '';
    $('login-submit').disabled = true;
    try {
      const s = await api('POST', '/dashboard/login', { token: token });
      await start(s);
    } catch (e) {
      $('login-error').textContent = e.status === 401 ? 'Wrong token.' : e.message;
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function onLogout() {
    try {
      await api('POST', '/dashboard/logout');
    } catch (e) {
      // the session may be gone already
    }
    loggedOut('');
  }

  function loggedOut(message) {
    state.generation++;
    if (state.events) {
      state.events.close();
      state.events = null;
    }
    if (state.timer) {
      clearInterval(state.timer);
      state.timer = null;
    }
    state.principal = null;
    state.csrf = null;
    state.feed = [];
    state.seen = new Set();
    state.tenants = [];
    state.tenant = '';
    clear($('feed-body'));
    clear($('tenant-select'));
    // nothing of this session stays in the page for the next one
    for (const id of ['feed-dropped', 'key-message', 'provider-message', 'models-since', 'circuits-strategies']) {
      $(id).textContent = '';
    }
    $('key-form').reset();
    $('provider-form').reset();
    for (const id of ['models-body', 'budgets-body', 'circuits-body', 'providers-body', 'keys-body']) clear($(id));
    banner('');
    showLogin(message);
  }

  async function start(s) {
    state.principal = s.principal;
    state.csrf = s.csrf_token;
    state.apiPort = s.api_port;
    const superAdmin = s.principal.role === 'super_admin';
    $('who').textContent = superAdmin ? 'super-admin' : 'tenant admin · ' + s.principal.tenant;
    $('who').title = 'key ' + s.principal.key_id;
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    const feed = $('feed');
    feed.replaceChild(state.feedColumns[0].cloneNode(true), feed.querySelector('colgroup'));
    feed.replaceChild(state.feedColumns[1].cloneNode(true), feed.querySelector('thead'));
    if (!superAdmin) {
      // a tenant admin sees its tenant only: no tenant column, no selector
      for (const n of Array.from(feed.querySelectorAll('.col-tenant'))) n.remove();
    }
    await loadTenants();
    connectFeed();
    renderFeed();
    if (state.timer) clearInterval(state.timer);
    state.timer = setInterval(() => refresh(true), REFRESH_MS);
    showPage(pageFromHash());
  }

  function superAdmin() {
    return state.principal && state.principal.role === 'super_admin';
  }

  async function loadTenants() {
    const picker = $('tenant-picker');
    const select = $('tenant-select');
    if (!superAdmin()) {
      state.tenants = [state.principal.tenant];
      state.tenant = state.principal.tenant;
      picker.hidden = true;
      return;
    }
    const list = await api('GET', '/admin/v1/tenants');
    state.tenants = list.data.map((t) => t.id);
    const keep = state.tenant;
    clear(select);
    select.append(el('option', { text: 'All tenants' }));
    select.lastChild.value = '';
    for (const t of list.data) {
      const o = el('option', { text: t.name === t.id ? t.id : t.id + ' (' + t.name + ')' });
      o.value = t.id;
      select.append(o);
    }
    state.tenant = state.tenants.includes(keep) ? keep : '';
    select.value = state.tenant;
    picker.hidden = false;
  }

  // ---- pages ----

  function pageFromHash() {
    const p = (location.hash || '').replace(/^#/, '');
    return PAGES.includes(p) ? p : 'live';
  }

  function showPage(page) {
    state.page = page;
    for (const p of PAGES) {
      $('page-' + p).hidden = p !== page;
    }
    for (const a of Array.from(document.querySelectorAll('.tabs a'))) {
      a.classList.toggle('active', a.getAttribute('data-page') === page);
    }
    refresh(false);
  }

  /** Loads the page shown; @param auto the timer's call: configure pages keep their half-filled forms. */
  function refresh(auto) {
    if (!state.principal) return;
    const loaders = {
      live: null, models: loadModels, budgets: loadBudgets, circuits: loadCircuits,
      providers: loadProviders, keys: loadKeys,
    };
    const f = loaders[state.page];
    if (!f) return;
    if (auto && (state.page === 'providers' || state.page === 'keys')) return;
    f().then(() => banner(''), (e) => {
      if (e.status !== 401 && e.code !== 'stale') banner(e.message);
    });
  }

  // ---- live feed ----

  function connectFeed() {
    if (state.events) state.events.close();
    const es = new EventSource('/dashboard/events');
    state.events = es;
    const status = $('feed-status');
    es.onopen = () => {
      status.textContent = 'live';
      status.className = 'pill live';
    };
    es.onmessage = (m) => {
      let c;
      try {
        c = JSON.parse(m.data);
      } catch (e) {
        return;
      }
      addCompletion(c);
    };
    let notShown = 0;
    es.addEventListener('dropped', (m) => {
      try {
        const d = JSON.parse(m.data);
        // each notice counts the drops since the one before: the page shows them all
        notShown += Number(d.dropped) || 0;
        $('feed-dropped').textContent = count(notShown) + ' requests not shown (the feed fell behind)';
      } catch (e) {
        // ignore
      }
    });
    es.addEventListener('logout', () => {
      es.close();
      loggedOut('Your session ended; log in again.');
    });
    es.onerror = () => {
      status.textContent = es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
      status.className = 'pill down';
      if (es.readyState === EventSource.CLOSED) {
        // refused (the session ended?): ask, and reconnect if it is still fine
        api('GET', '/dashboard/session').then(() => setTimeout(() => {
          if (state.principal && state.events === es) connectFeed();
        }, 3000), () => {});
      }
    };
  }

  function addCompletion(c) {
    if (!c || typeof c.request_id !== 'string' || state.seen.has(c.request_id)) return;
    state.seen.add(c.request_id);
    state.feed.unshift(c);
    while (state.feed.length > FEED_ROWS) {
      const old = state.feed.pop();
      state.seen.delete(old.request_id);
    }
    if (!visibleInFeed(c)) return;
    const body = $('feed-body');
    const row = feedRow(c);
    row.className = 'fresh';
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > FEED_ROWS) body.deleteRow(body.rows.length - 1);
    feedEmptyState();
  }

  function visibleInFeed(c) {
    return !superAdmin() || state.tenant === '' || c.tenant === state.tenant;
  }

  function renderFeed() {
    const body = $('feed-body');
    clear(body);
    for (const c of state.feed) {
      if (visibleInFeed(c)) body.append(feedRow(c));
    }
    feedEmptyState();
  }

  function feedEmptyState() {
    const empty = $('feed-empty');
    if ($('feed-body').rows.length > 0) {
      empty.hidden = true;
      return;
    }
    clear(empty);
    const host = location.hostname.includes(':') ? '[' + location.hostname + ']' : location.hostname;
    const url = 'http://' + host + ':' + (state.apiPort || '<api port>') + '/v1/chat/completions';
    empty.append('No requests yet — send one to ', el('code', { text: url }));
    empty.hidden = false;
  }

  function feedRow(c) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-request-id', c.request_id);
    tr.append(cell(clock(c.time), null, c.time));
    tr.append(cell(c.request_id, 'mono'));
    if (superAdmin()) tr.append(cell(c.tenant === null || c.tenant === undefined ? '—' : c.tenant));
    tr.append(cell(c.key_id || '—', 'mono'));
    tr.append(cell(c.model === null || c.model === undefined ? '—' : c.model, 'model-asked'));
    tr.append(cell(c.selected_model || '—'));
    tr.append(cell(c.endpoint || '—'));
    tr.append(cell(c.strategy || '—'));
    const ok = c.status < 400 && !c.error_code;
    const status = String(c.status) + (c.error_code ? ' ' + c.error_code : '') + (c.stream ? ' · stream' : '');
    tr.append(cell(status, ok ? 'status-ok' : 'status-bad'));
    tr.append(cell(usd(c.cost_usd) + (c.cost_estimated ? '*' : ''), 'num',
      c.cost_estimated ? 'estimated: the provider reported no usage' : usd(c.cost_usd)));
    tr.append(cell(ms(c.latency_ms), 'num'));
    tr.append(cell(ms(c.ttft_ms), 'num'));
    // the outcome shows when it says more than the number: why a 0, why no score
    const outcome = c.score_outcome || '';
    const plain = outcome === 'plain_ok' || outcome === 'valid' || outcome === 'not_applicable';
    const score = c.score === null || c.score === undefined ? '—' : Number(c.score).toFixed(2);
    tr.append(cell(plain || !outcome ? score : score + ' ' + outcome, null, outcome || 'not scored'));
    return tr;
  }

  // ---- models ----

  async function loadModels() {
    const q = superAdmin() && state.tenant ? '?tenant=' + enc(state.tenant) : '';
    const stats = await api('GET', '/admin/v1/stats/models' + q);
    let routing = null;
    try {
      // a tenant admin's routing report is its tenant's view without asking
      routing = await api('GET', '/admin/v1/routing' + q);
    } catch (e) {
      if (e.code === 'stale') throw e;
      routing = null; // learnt quality is extra: the figures show without it
    }
    const learnt = new Map();
    const latest = new Map(); // candidate → the latest firings of its shared belief and of the chosen tenant's
    if (routing) {
      for (const e of routing.endpoints) learnt.set(e.id, e);
      // newest first; the tenant's firings are there only when one is chosen
      for (const v of routing.learning_events || []) {
        const marks = latest.get(v.candidate) || {};
        const scope = v.tenant === null ? 'shared' : 'tenant';
        if (!marks[scope] && (scope === 'shared' || v.tenant === routing.tenant)) marks[scope] = v;
        latest.set(v.candidate, marks);
      }
    }
    $('models-since').textContent = 'since ' + dateTime(stats.since);
    const body = $('models-body');
    clear(body);
    for (const m of stats.data) {
      const tr = document.createElement('tr');
      tr.append(cell(m.model));
      tr.append(cell(m.endpoint || '—'));
      tr.append(cell(count(m.requests), 'num'));
      tr.append(cell(count(m.errors), 'num' + (m.errors > 0 ? ' status-bad' : '')));
      tr.append(cell(usd(m.cost_usd), 'num'));
      tr.append(cell(ms(m.latency_ms.p50), 'num'));
      tr.append(cell(ms(m.latency_ms.p95), 'num'));
      tr.append(cell(ms(m.ttft_ms.p50), 'num'));
      tr.append(cell(qualityText(m.quality)));
      const id = m.model + '@' + m.endpoint;
      tr.setAttribute('data-candidate', id);
      tr.append(learntCell(learnt.get(id), latest.get(id), routing ? routing.tenant : null));
      body.append(tr);
    }
    const empty = $('models-empty');
    empty.textContent = stats.data.length ? '' : 'No requests since the gateway started.';
    empty.hidden = stats.data.length > 0;
  }

  const FORMATS = { json_object: 'JSON', json_schema: 'schema', tools: 'tools' };

  /** "0.93 mean of 40 · JSON 9/10 · tools 3/4": the mean score, and per structured format valid/scored. */
  function qualityText(q) {
    if (!q || !q.scored) return 'not scored';
    let text = Number(q.mean).toFixed(2) + ' mean of ' + count(q.scored);
    const f = q.formats || {};
    for (const k of Object.keys(FORMATS)) {
      if (f[k]) text += ' · ' + FORMATS[k] + ' ' + count(f[k].valid) + '/' + count(f[k].scored);
    }
    return text;
  }

  /**
   * The shared learnt quality; under it the chosen tenant's view ("acme: plain/0-1k 0.12 (own n=8)",
   * the combined posterior routing uses for it) and a mark for the latest firing of each one's detector.
   */
  function learntCell(e, marks, tenant) {
    const td = el('td', { cls: 'learnt' });
    const shared = learntText(e ? e.quality : null, (b) => b.mean, (b) => 'n=' + count(b.observations));
    td.append(el('div', { text: shared, title: 'learnt from every tenant\'s scored answers: ' + shared }));
    if (e && tenant !== null && e.tenant_quality) {
      const view = tenant + ': ' + learntText(e.tenant_quality, (v) => v.combined.mean,
        (v) => 'own n=' + count(v.own.observations));
      td.append(el('div', { cls: 'tenant-view', text: view, title: 'what routing uses for ' + view }));
    }
    for (const v of [marks && marks.shared, marks && marks.tenant]) {
      if (v) td.append(el('div', null, [firingMark(v)]));
    }
    return td;
  }

  function learntText(byClass, mean, n) {
    if (!byClass) return '—';
    const parts = [];
    for (const k of Object.keys(byClass).sort()) {
      parts.push(k + ' ' + Number(mean(byClass[k])).toFixed(2) + ' (' + n(byClass[k]) + ')');
    }
    return parts.length ? parts.join(', ') : 'no answers yet';
  }

  /** "dropped 14:03 (0.69 → 0.08)", or "acme: recovered …" for a tenant's own belief. */
  function firingMark(v) {
    const at = new Date(v.at);
    const hhmm = Number.isNaN(at.getTime()) ? '—'
      : at.toLocaleTimeString('en-GB', { hour12: false, hour: '2-digit', minute: '2-digit' });
    const what = (v.direction === 'down' ? 'dropped ' : 'recovered ') + hhmm + ' ('
      + Number(v.mean_before).toFixed(2) + ' → ' + Number(v.mean_after).toFixed(2) + ')';
    const title = (v.tenant === null ? 'shared belief' : 'tenant ' + v.tenant + '\'s own belief') + ', class '
      + v.class + ': the change detector fired at ' + v.at + '; the belief restarted from the last '
      + Math.round(Number(v.answers)) + ' answers';
    return el('span', { cls: 'firing ' + v.direction, text: (v.tenant === null ? '' : v.tenant + ': ') + what,
      title: title });
  }

  // ---- budgets ----

  // which store keeps budgets, and for Redis whether it is reachable and what waits for it
  function showStore(s) {
    const pill = $('state-store');
    const detail = $('state-store-detail');
    if (s.kind !== 'redis') {
      pill.className = 'pill';
      pill.textContent = s.kind === 'files' ? 'kept in state files' : 'kept in memory';
      detail.textContent = '';
      return;
    }
    const r = s.redis;
    pill.className = 'pill ' + (r.connected ? 'live' : 'down');
    pill.textContent = 'Redis ' + (r.connected ? 'connected' : 'unreachable');
    const parts = [];
    if (r.url) parts.push(r.url);
    parts.push(count(r.deferred_writes) + ' writes waiting');
    if (r.lost_writes > 0) parts.push(count(r.lost_writes) + ' lost');
    if (r.refused_unavailable > 0) parts.push(count(r.refused_unavailable) + ' refused while away');
    if (r.served_unchecked > 0) parts.push(count(r.served_unchecked) + ' served unchecked');
    parts.push('on_unavailable: ' + r.on_unavailable);
    detail.textContent = parts.join(' · ');
  }

  async function loadBudgets() {
    const tenants = superAdmin() && state.tenant === '' ? state.tenants : [state.tenant];
    const [store, ...usages] = await Promise.all([api('GET', '/admin/v1/state')].concat(
      tenants.map((t) => api('GET', '/admin/v1/tenants/' + enc(t) + '/usage'))));
    showStore(store);
    const body = $('budgets-body');
    clear(body);
    let rows = 0;
    for (const u of usages) {
      for (const k of u.keys) {
        const tr = document.createElement('tr');
        tr.setAttribute('data-key-id', k.key_id);
        tr.append(cell(u.tenant));
        tr.append(cell(k.key_name));
        tr.append(cell(k.key_id, 'mono'));
        tr.append(cell(k.daily_budget_usd === null ? 'no limit' : usd(k.daily_budget_usd), 'num'));
        tr.append(cell(usd(k.spent_usd), 'num'));
        tr.append(cell(k.remaining_usd === null ? '—' : usd(k.remaining_usd), 'num'));
        tr.append(cell(count(k.requests), 'num'));
        const td = document.createElement('td');
        if (k.daily_budget_usd !== null && Number(k.daily_budget_usd) > 0) {
          const used = (Number(k.spent_usd) + Number(k.reserved_usd)) / Number(k.daily_budget_usd);
          const step = Math.min(100, Math.ceil(used * 10) * 10);
          const bar = el('div', { cls: 'bar', title: percent(used) + ' used' });
          bar.append(el('span', { cls: 'p' + step + (used >= 1 ? ' full' : used >= 0.8 ? ' high' : '') }));
          td.append(bar);
        } else {
          td.textContent = '—';
        }
        tr.append(td);
        tr.append(cell(dateTime(k.resets_at), null, k.resets_at));
        body.append(tr);
        rows++;
      }
    }
    const empty = $('budgets-empty');
    empty.textContent = rows ? '' : 'No API keys yet — create one under API keys.';
    empty.hidden = rows > 0;
  }

  // ---- circuits ----

  async function loadCircuits() {
    const body = $('circuits-body');
    const empty = $('circuits-empty');
    let r;
    try {
      r = await api('GET', '/admin/v1/routing');
    } catch (e) {
      if (e.status === 403 || e.status === 404) {
        clear(body);
        empty.textContent = 'Routing state is not visible to this admin key.';
        empty.hidden = false;
        return;
      }
      throw e;
    }
    $('circuits-strategies').textContent = 'strategies: ' + r.strategies.map((s) => s.name).join(', ');
    clear(body);
    for (const e of r.endpoints) {
      const tr = document.createElement('tr');
      tr.append(cell(e.id));
      tr.append(cell(e.circuit.state.replace('_', '-'), 'state-' + e.circuit.state,
        e.circuit.open_until ? 'open until ' + e.circuit.open_until : e.circuit.state));
      tr.append(cell(count(e.requests), 'num'));
      tr.append(cell(percent(e.error_rate), 'num'));
      tr.append(cell(count(e.circuit.trips), 'num'));
      tr.append(cell(ms(e.latency_ms.p50), 'num'));
      tr.append(cell(ms(e.latency_ms.p90), 'num'));
      tr.append(cell(ms(e.ttft_ms.p50), 'num'));
      // 401/403/429 are held per provider key, not on the circuit: say how many keys are held
      const held = e.circuit.keys_held || {};
      const keys = [];
      if (held.rate_limited) keys.push(held.rate_limited + (held.rate_limited === 1 ? ' key' : ' keys') + ' cooling down (429)');
      if (held.rejected) keys.push(held.rejected + (held.rejected === 1 ? ' key' : ' keys') + ' rejected (401/403)');
      tr.append(cell([e.circuit.reason].concat(keys).filter((x) => x).join('; ') || '—'));
      body.append(tr);
    }
    empty.textContent = r.endpoints.length ? '' : 'No endpoints.';
    empty.hidden = r.endpoints.length > 0;
  }

  // ---- configure: providers ----

  function configureTenant(needId, contentId) {
    const t = state.tenant;
    $(needId).hidden = t !== '';
    $(contentId).hidden = t === '';
    return t;
  }

  async function loadProviders() {
    const t = configureTenant('providers-need-tenant', 'providers-content');
    if (!t) return;
    const r = await api('GET', '/admin/v1/tenants/' + enc(t) + '/providers');
    const body = $('providers-body');
    clear(body);
    for (const p of r.data) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-provider', p.provider);
      tr.append(cell(p.provider));
      tr.append(cell(p.fingerprint, 'mono fingerprint'));
      tr.append(cell(dateTime(p.created_at)));
      tr.append(cell(p.source));
      const td = document.createElement('td');
      if (p.source !== 'config') {
        const b = el('button', { cls: 'danger', text: 'Delete' });
        b.type = 'button';
        b.addEventListener('click', () => deleteProvider(t, p.provider));
        td.append(b);
      }
      tr.append(td);
      body.append(tr);
    }
    const empty = $('providers-empty');
    empty.textContent = r.data.length ? '' : 'No provider keys: this tenant can use the simulated models (sim/…) only.';
    empty.hidden = r.data.length > 0;
    const select = $('provider-name');
    const keep = select.value;
    clear(select);
    for (const name of r.providers) {
      const o = el('option', { text: name });
      o.value = name;
      select.append(o);
    }
    if (r.providers.includes(keep)) select.value = keep;
    $('provider-submit').disabled = r.providers.length === 0;
    if (r.providers.length === 0) message('provider-message', 'No provider accounts are configured (providers: in conf/brainstorm.yaml).', false);
  }

  async function onSetProvider(ev) {
    ev.preventDefault();
    const t = state.tenant;
    const provider = $('provider-name').value;
    const input = $('provider-key');
    const key = input.value.trim();
    input.value = '';
    if (!t || !provider || !key) return;
    try {
      const p = await api('PUT', '/admin/v1/tenants/' + enc(t) + '/providers/' + enc(provider), { api_key: key });
      message('provider-message', 'Saved the ' + p.provider + ' key (' + p.fingerprint + ').', true);
      await loadProviders();
    } catch (e) {
      message('provider-message', e.message, false);
    }
  }

  async function deleteProvider(t, provider) {
    if (!window.confirm('Delete the ' + provider + ' key of tenant ' + t + '?')) return;
    try {
      await api('DELETE', '/admin/v1/tenants/' + enc(t) + '/providers/' + enc(provider));
      message('provider-message', 'Deleted the ' + provider + ' key.', true);
      await loadProviders();
    } catch (e) {
      message('provider-message', e.message, false);
    }
  }

  function message(id, text, ok) {
    const m = $(id);
    m.textContent = text;
    m.className = 'message ' + (ok ? 'ok' : 'bad');
  }

  // ---- configure: API keys ----

  async function loadKeys() {
    const t = configureTenant('keys-need-tenant', 'keys-content');
    if (!t) return;
    const r = await api('GET', '/admin/v1/tenants/' + enc(t) + '/keys');
    const body = $('keys-body');
    clear(body);
    const keys = r.data.slice().reverse(); // newest first
    for (const k of keys) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-key-id', k.id);
      tr.append(cell(k.name));
      tr.append(cell(k.id, 'mono'));
      tr.append(cell(k.kind));
      tr.append(cell(k.daily_budget_usd === null ? 'no limit' : usd(k.daily_budget_usd), 'num'));
      tr.append(cell(k.rpm ? count(k.rpm) : 'no limit', 'num'));
      tr.append(cell(dateTime(k.created_at)));
      tr.append(cell(k.source));
      tr.append(cell(k.revoked_at ? 'revoked' : 'active', k.revoked_at ? 'status-bad' : 'status-ok',
        k.revoked_at ? 'revoked ' + k.revoked_at : 'active'));
      const td = document.createElement('td');
      if (!k.revoked_at) {
        const b = el('button', { cls: 'danger', text: 'Revoke' });
        b.type = 'button';
        b.addEventListener('click', () => revokeKey(k));
        td.append(b);
      }
      tr.append(td);
      body.append(tr);
    }
    const empty = $('keys-empty');
    empty.textContent = keys.length ? '' : 'No keys yet.';
    empty.hidden = keys.length > 0;
  }

  async function onCreateKey(ev) {
    ev.preventDefault();
    const t = state.tenant;
    if (!t) return;
    const body = { name: $('key-name').value.trim(), kind: $('key-kind').value };
    const budget = $('key-budget').value.trim();
    const rpm = $('key-rpm').value.trim();
    if (budget !== '') {
      const b = Number(budget);
      if (!Number.isFinite(b) || b < 0) {
        message('key-message', 'Daily budget: "' + budget + '" (expected: a number of USD >= 0).', false);
        return;
      }
      body.daily_budget_usd = b;
    }
    if (rpm !== '') {
      const n = Number(rpm);
      if (!Number.isInteger(n) || n < 0) {
        message('key-message', 'Requests per minute: "' + rpm + '" (expected: a whole number >= 0).', false);
        return;
      }
      body.rpm = n;
    }
    let created;
    try {
      created = await api('POST', '/admin/v1/tenants/' + enc(t) + '/keys', body);
    } catch (e) {
      message('key-message', e.message, false);
      return;
    }
    $('key-form').reset();
    message('key-message', 'Created ' + created.kind + ' key "' + created.name + '" (' + created.id + ').', true);
    showSecret(created.key);
    created.key = null; // the secret lives in the dialog only, until it is closed
    created = null;
    await loadKeys();
  }

  async function revokeKey(k) {
    if (!window.confirm('Revoke key "' + k.name + '" (' + k.id + ')? Requests with it fail at once.')) return;
    try {
      await api('DELETE', '/admin/v1/keys/' + enc(k.id));
      message('key-message', 'Revoked "' + k.name + '".', true);
      await loadKeys();
    } catch (e) {
      message('key-message', e.message, false);
    }
  }

  function showSecret(secret) {
    $('secret-value').textContent = secret;
    $('secret-copied').textContent = '';
    $('secret-dialog').showModal();
  }

  async function onCopySecret() {
    const text = $('secret-value').textContent;
    try {
      await navigator.clipboard.writeText(text);
      $('secret-copied').textContent = 'Copied.';
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents($('secret-value'));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      $('secret-copied').textContent = 'Selected: press Ctrl+C.';
    }
  }

  function closeSecret() {
    $('secret-value').textContent = '';
    $('secret-copied').textContent = '';
    if ($('secret-dialog').open) $('secret-dialog').close();
  }

  window.addEventListener('DOMContentLoaded', boot);
})();
