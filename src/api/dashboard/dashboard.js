// The bosun dashboard: plain DOM, no framework. It reads /dashboard/state (the agent's words) every two
// seconds and /dashboard/logs as a stream, and calls the API's own action routes. The device key, when
// one is needed, lives in sessionStorage and travels as an Authorization header: never in a cookie,
// so another site open in the same browser cannot act with it. Everything from the device (names,
// log lines) goes into the page as text, never as HTML.
'use strict';

const KEY_ITEM = 'bosun.key';
const POLL_MS = 2000;
const MAX_LOG_LINES = 500;

const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem(KEY_ITEM) ?? '';
let pollTimer;
let logAbort;
const logBuffer = [];

function headers(json) {
  const h = {};
  if (key !== '') h.Authorization = `Bearer ${key}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function say(text, isError) {
  const box = $('message');
  box.textContent = text;
  box.className = isError ? 'error' : '';
  box.hidden = text === '';
}

function askForKey(reason) {
  $('login').hidden = false;
  if (reason) say(reason, true);
  $('key').focus();
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  if (res.status === 401) {
    askForKey('Refused: this needs the device API key.');
    throw new Error('unauthorized');
  }
  return res;
}

// ── state

async function poll() {
  clearTimeout(pollTimer);
  try {
    const res = await api('GET', '/dashboard/state');
    if (res.ok) render(await res.json());
    else $('summary').textContent = `The agent answered ${res.status}.`;
  } catch (err) {
    if (err.message !== 'unauthorized') $('summary').textContent = 'The agent does not answer.';
  }
  pollTimer = setTimeout(poll, POLL_MS);
}

function render(view) {
  const d = view.device;
  document.title = `${d.name} · bosun`;
  $('device-name').textContent = d.name;
  $('mode').textContent = d.mode === 'local' ? 'local mode' : 'cloud';
  $('mode').className = `badge ${d.mode}`;
  $('summary').textContent = view.summary;
  const facts = [
    ['UUID', d.uuid || '(not provisioned)'],
    ['Device type', d.deviceType],
    ['OS', d.os],
    ['bosun', d.version],
    ['Connectivity', d.connectivity],
    ['Addresses', d.ipAddresses.join(', ') || 'none'],
  ];
  $('device-facts').replaceChildren(
    ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
  );
  $('plan').hidden = view.plan.length === 0;
  $('plan-steps').replaceChildren(...view.plan.map((step) => el('li', {}, step)));
  $('apps').replaceChildren(...view.apps.map(renderApp));
  if (view.apps.length === 0) $('apps').append(el('p', {}, 'No apps yet.'));
  updateLogChoices(view.apps.flatMap((a) => a.services.map((s) => s.name)));
}

function renderApp(app) {
  return el(
    'article',
    { class: 'app', 'data-app': app.appId },
    el(
      'div',
      { class: 'app-head' },
      el('h2', {}, app.name),
      el('span', {}, `${app.updateStatus}${app.commit ? ` · ${app.commit.slice(0, 7)}` : ''}`),
      el(
        'span',
        { class: 'actions' },
        el('button', { type: 'button', onclick: () => restartApp(app) }, 'Restart app'),
      ),
    ),
    app.waiting && el('p', { class: 'app-waiting' }, app.waiting),
    app.release && el('p', { class: 'app-waiting' }, app.release),
    el('div', { class: 'services' }, ...app.services.map((s) => renderService(app, s))),
  );
}

function renderService(app, s) {
  const details = [
    s.containerId ? `container ${s.containerId.slice(0, 12)}` : 'no container',
    s.health !== 'none' ? s.health : undefined,
    `${s.restartCount} restart${s.restartCount === 1 ? '' : 's'}`,
  ].filter(Boolean);
  return el(
    'div',
    { class: 'service', 'data-service': s.name, 'data-container': s.containerId ?? '' },
    el('h3', {}, el('span', {}, s.name), el('span', { class: `svc-state ${s.state}` }, s.state)),
    el('p', { class: 'svc-id' }, details.join(' · ')),
    s.downloadProgress !== undefined &&
      el('progress', { max: 100, value: s.downloadProgress }, `${s.downloadProgress}%`),
    s.waiting && el('p', { class: 'svc-waiting' }, s.waiting),
    s.error && el('p', { class: 'svc-error' }, s.error),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'button', onclick: () => serviceAction(app, s, 'restart') }, 'Restart'),
      el(
        'button',
        { type: 'button', class: 'danger', onclick: () => serviceAction(app, s, 'stop') },
        'Stop',
      ),
      el('button', { type: 'button', class: 'quiet', onclick: () => showLogs(s.name) }, 'Logs'),
    ),
  );
}

// ── actions: each asks first, then calls the API route the CLI would

async function act(question, doing, method, path, body) {
  if (!window.confirm(question)) return;
  say(`${doing}…`, false);
  try {
    const res = await api(method, path, body);
    const text = await res.text();
    if (res.ok) say(`${doing}: done.`, false);
    else say(`${doing}: refused (${res.status}) ${messageOf(text)}`, true);
  } catch (err) {
    if (err.message !== 'unauthorized') say(`${doing}: failed (${err.message}).`, true);
  }
  void poll();
}

function messageOf(text) {
  try {
    const json = JSON.parse(text);
    return json.message ?? json.error ?? text;
  } catch {
    return text;
  }
}

function serviceAction(app, s, action) {
  const verb = action === 'restart' ? 'Restart' : 'Stop';
  void act(
    `${verb} service ${s.name} of ${app.name}?`,
    `${verb === 'Restart' ? 'Restarting' : 'Stopping'} ${s.name}`,
    'POST',
    `/v2/applications/${app.appId}/${action}-service`,
    { serviceName: s.name },
  );
}

function restartApp(app) {
  void act(
    `Restart every service of ${app.name}?`,
    `Restarting ${app.name}`,
    'POST',
    `/v2/applications/${app.appId}/restart`,
    {},
  );
}

function forceUpdate() {
  void act(
    'Apply the target now, overriding update locks?',
    'Forcing an update',
    'POST',
    '/v1/update',
    { force: true },
  );
}

// ── logs: one stream for every service (with the system lines); the select filters what is shown

function updateLogChoices(names) {
  const select = $('log-service');
  const have = [...select.options].map((o) => o.value).filter((v) => v !== '');
  if (have.join('\n') === names.join('\n')) return;
  const chosen = select.value;
  select.replaceChildren(
    el('option', { value: '' }, 'all services'),
    ...names.map((n) => el('option', { value: n }, n)),
  );
  select.value = names.includes(chosen) ? chosen : '';
}

function showLogs(name) {
  $('log-service').value = name;
  drawLogs();
  $('logs').scrollIntoView({ behavior: 'smooth' });
}

function logLine(entry) {
  const time = new Date(entry.timestamp ?? Date.now()).toTimeString().slice(0, 8);
  const who = entry.isSystem ? 'bosun' : (entry.serviceName ?? '?');
  const cls = entry.isSystem ? 'log-system' : entry.isStdErr ? 'log-stderr' : undefined;
  return el('span', { class: cls }, `${time} [${who}] ${entry.message}\n`);
}

function shown(entry) {
  const service = $('log-service').value;
  return service === '' || entry.isSystem || entry.serviceName === service;
}

function drawLogs() {
  const pre = $('log-lines');
  pre.replaceChildren(...logBuffer.filter(shown).map(logLine));
  pre.scrollTop = pre.scrollHeight;
}

function addLog(entry) {
  logBuffer.push(entry);
  if (logBuffer.length > MAX_LOG_LINES) logBuffer.shift();
  if (!shown(entry)) return;
  const pre = $('log-lines');
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(logLine(entry));
  while (pre.childNodes.length > MAX_LOG_LINES) pre.firstChild.remove();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

async function streamLogs() {
  logAbort?.abort();
  const abort = new AbortController();
  logAbort = abort;
  try {
    const res = await fetch('/dashboard/logs', {
      headers: headers(false),
      signal: abort.signal,
      credentials: 'omit',
    });
    if (!res.ok || res.body === null) throw new Error(String(res.status));
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          addLog(JSON.parse(line));
        } catch {
          // not a JSON line: skip it
        }
      }
    }
  } catch {
    if (abort.signal.aborted) return;
  }
  if (logAbort === abort) setTimeout(() => void streamLogs(), POLL_MS);
}

// ── start

function login(event) {
  event.preventDefault();
  key = $('key').value.trim();
  $('key').value = '';
  if (key === '') sessionStorage.removeItem(KEY_ITEM);
  else sessionStorage.setItem(KEY_ITEM, key);
  $('login').hidden = true;
  say('', false);
  void poll();
  void streamLogs();
}

$('login').addEventListener('submit', login);
$('key-button').addEventListener('click', () => askForKey());
$('force-update').addEventListener('click', forceUpdate);
$('log-service').addEventListener('change', drawLogs);
void poll();
void streamLogs();
