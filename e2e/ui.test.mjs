// Browser tests of the EODS pages: the real `eods serve` binary on a fresh SQLite database,
// Debian's Chromium driven by playwright-core (never a downloaded browser), axe-core scanning
// every page. Screenshots of every page go to e2e/artifacts/<run>/.
//
//   EODS_BIN=target/debug/eods node --test e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = process.env.EODS_BIN ?? join(root, 'target/debug/eods');
const shots = join(here, 'artifacts', new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server, base, browser, db;
/** Console reports of anything the pages' Content-Security-Policy refused. */
const blocked = [];

/** A new page that reports Content-Security-Policy refusals. */
async function newPage() {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
  });
  return page;
}
const tokens = {};

function token(role, name, contracts = false) {
  const args = ['token', 'create', '--role', role, '--name', name, '--database', db];
  if (contracts) args.push('--contracts');
  const out = execFileSync(bin, args, { encoding: 'utf8' });
  return out.match(/eods_[0-9a-f]+_[0-9a-f]+/)[0];
}

async function api(who, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function until(what, check, seconds = 120) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs axe-core on the page; fails on any serious or critical violation. */
async function accessible(page, name) {
  // Evaluated through the DevTools protocol: the pages' Content-Security-Policy allows no inline
  // script, and the test should not weaken it.
  await page.evaluate(axeSource);
  assert.deepEqual(blocked, [], `${name}: the Content-Security-Policy blocked something`);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), [], `${name} has serious accessibility violations`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(who) {
  const page = await newPage();
  const context = page.context();
  await page.goto(base + '/');
  assert.equal(new URL(page.url()).pathname, '/ui/login');
  await page.getByLabel('API token').fill(tokens[who]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(base + '/ui');
  return { context, page };
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eods-e2e-'));
  db = `sqlite://${join(dir, 'eods.db')}`;
  tokens.alice = token('planner', 'alice');
  tokens.bob = token('approver', 'bob', true);
  tokens.vera = token('viewer', 'vera');
  // The server's clock starts on the day the tests' briefs were written for (TESTS_TODAY in
  // eods-store's test_support), so their dates are never refused as past.
  server = spawn(bin, ['serve', '--bind', '127.0.0.1:0', '--database', db, '--log-format', 'text'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EODS_NOW: '2026-12-01T09:00:00Z' } });
  base = await new Promise((resolve, reject) => {
    let err = '';
    server.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/\S+)\s/); // the whole address: stderr may arrive in pieces
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`eods serve exited ${code}: ${err}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});


/** Opens a tab of the event page, scans it and takes its screenshot. */
async function tab(page, id, name, who) {
  await page.goto(`${base}/ui/events/${id}?tab=${name}`);
  assert.equal(await page.locator('nav.tabs a[aria-current=page]').innerText(), name[0].toUpperCase() + name.slice(1));
  await accessible(page, `${name} tab (${who})`);
  await shot(page, `${who}-event-${name}`);
}

const TABS = ['overview', 'timeline', 'tasks', 'venue', 'budget', 'schedule', 'risks', 'logistics', 'contingency', 'communications', 'revisions'];

test('a planner creates an event with the form and watches it plan, reports an incident, an approver approves the three gates, and the event reaches its postmortem', async () => {
  const login = await newPage();
  await login.goto(base + '/ui/login');
  await accessible(login, 'sign-in');
  await shot(login, 'sign-in');
  await login.getByLabel('API token').fill('eods_000000000000_wrong');
  await login.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await login.locator('#token-error').innerText(), /not valid/);
  await accessible(login, 'sign-in with an error');
  await shot(login, 'sign-in-error');

  // The planner fills the new-event form with the S-02 brief, first without a title.
  const s02 = JSON.parse(readFileSync(join(root, 'examples/s02-conference.json'), 'utf8'));
  const alice = (await signIn('alice')).page;
  await accessible(alice, 'dashboard');
  await shot(alice, 'dashboard-empty');
  await alice.getByRole('link', { name: 'New event' }).click();
  await alice.waitForURL(base + '/ui/events/new');
  await accessible(alice, 'new-event form');
  await shot(alice, 'new-event');
  await alice.getByLabel('Event type').selectOption(s02.event_type);
  await alice.getByLabel('First day').fill(s02.date_range.start);
  await alice.getByLabel('Last day').fill(s02.date_range.end);
  await alice.getByLabel('Time zone').fill(s02.timezone);
  await alice.getByLabel('Audience size').fill('two hundred');
  await alice.getByLabel('Tracks').fill(String(s02.tracks));
  await alice.getByLabel('City').fill(s02.location.city);
  await alice.getByLabel('Country').fill(s02.location.country);
  await alice.getByLabel('Location preferences').fill(s02.location.preferences.join(', '));
  await alice.getByLabel('Budget', { exact: true }).fill(String(s02.budget.total));
  await alice.getByLabel('Currency').fill(s02.budget.currency);
  await alice.getByLabel('Budget flexibility').selectOption(s02.budget.flexibility);
  await alice.getByLabel('Stakeholders').fill(s02.stakeholders.map((p) => `${p.name}, ${p.role}, ${p.contact}`).join('\n'));
  await alice.getByLabel('Objectives').fill(s02.objectives.join('\n'));
  await alice.getByLabel('Constraints').fill(s02.constraints.join('\n'));
  // A rehearsal: the test follows the run to its (simulated) postmortem.
  await alice.getByLabel('After the plan is confirmed').selectOption('simulate');
  await alice.getByRole('button', { name: 'Create and start planning' }).click();
  // The missing title and the wrong audience size, each on its field, in one answer from the same
  // intake as the API; what was typed stays.
  const summary = alice.getByRole('alert');
  assert.match(await summary.innerText(), /Title: enter the title/);
  assert.match(await summary.innerText(), /Audience size: `two hundred` is text: write the count as a bare whole number/);
  assert.equal(await alice.getByLabel('Title').getAttribute('aria-invalid'), 'true');
  assert.equal(await alice.getByLabel('Audience size').getAttribute('aria-invalid'), 'true');
  assert.equal(await alice.getByLabel('City').inputValue(), s02.location.city);
  await accessible(alice, 'new-event form with errors');
  await shot(alice, 'new-event-errors');
  // Fixing the title alone leaves the audience size marked.
  await alice.getByLabel('Title').fill(s02.title);
  await alice.getByRole('button', { name: 'Create and start planning' }).click();
  assert.doesNotMatch(await alice.getByRole('alert').innerText(), /Title/);
  assert.equal(await alice.getByLabel('Title').getAttribute('aria-invalid'), null);
  assert.equal(await alice.getByLabel('Audience size').getAttribute('aria-invalid'), 'true');
  await alice.getByLabel('Audience size').fill(String(s02.audience_size));
  await alice.getByRole('button', { name: 'Create and start planning' }).click();
  await alice.waitForURL(/\/ui\/events\/[0-9a-f-]{36}\?created=1$/);
  const id = alice.url().match(/events\/([0-9a-f-]{36})/)[1];
  assert.match(await alice.getByRole('status').first().innerText(), /created and planning has started/);

  // Watch it plan: the page follows the stream and updates itself in place (no reload) until the
  // run waits at Confirm.
  const marker = await alice.evaluate(() => (window.e2eMarker = Math.random()));
  const firstState = await alice.locator('#live-state').innerText();
  await alice.locator('#live-run', { hasText: 'awaiting_approval' }).waitFor({ timeout: 120_000 });
  assert.equal(await alice.evaluate(() => window.e2eMarker), marker, `updated in place from ${firstState}`);
  assert.equal(await alice.locator('ol.stepper li[aria-current=step]').textContent(), 'current: confirm');
  assert.match(await alice.locator('#gate-h').innerText(), /Gate to execute/);
  assert.match(await alice.getByRole('cell', { name: /approvals_granted/ }).locator('xpath=..').innerText(), /fails.*venue_selection is pending/s);
  const stepped = await api('vera', 'GET', `/api/v1/events/${id}`);
  assert.equal(stepped.body.brief.title, s02.title);
  assert.equal(stepped.body.brief.audience_size, s02.audience_size);

  for (const name of TABS) await tab(alice, id, name, 'planner');
  await alice.goto(`${base}/ui/events/${id}?tab=timeline`);
  const critical = await alice.locator('figure.chart svg .critical').count();
  assert.ok(critical > 0, 'the Gantt chart highlights the critical path');
  await alice.goto(`${base}/ui/events/${id}?tab=venue`);
  assert.match(await alice.locator('main').innerText(), /Selected: .+\./);
  assert.match(await alice.locator('main').innerText(), /Hidden: negotiation terms need the contracts permission/);
  await alice.goto(`${base}/ui/events/${id}?tab=revisions&type=budget_decision`);
  assert.ok((await alice.locator('table.diff tbody tr').count()) > 0);
  await accessible(alice, 'revision diff');
  await shot(alice, 'planner-event-revision-diff');

  // Report an incident for Execute from the event page.
  await alice.goto(`${base}/ui/events/${id}`);
  await alice.getByLabel('Kind').selectOption('vendor_cancellation');
  await alice.getByLabel('What happened').fill('The caterer cancelled by phone');
  await alice.getByRole('button', { name: 'Report incident' }).click();
  await alice.waitForURL(/reported=vendor_cancellation/);
  assert.match(await alice.getByRole('status').first().innerText(), /vendor_cancellation incident was recorded/);
  const watching = await alice.evaluate(() => (window.e2eMarker = Math.random()));

  // The approver decides the three gates from the inbox, one request at a time, each on its own
  // page with nothing chosen in advance, then a confirmation step.
  const { page } = await signIn('bob');
  await page.getByRole('link', { name: /Approvals/ }).click();
  await page.waitForURL(base + '/ui/approvals');
  // Each request with its event's summary row; the inbox itself has no decision forms.
  for (const card of await page.locator('section.card').all()) {
    assert.match(await card.innerText(), /Amsterdam, NL · audience 200 · budget 50000 EUR/);
  }
  assert.equal(await page.getByRole('radio').count(), 0);
  await accessible(page, 'approvals inbox');
  await shot(page, 'approvals');
  for (let i = 0; i < 3; i++) {
    const card = page.locator('section.card').first();
    const gate = (await card.locator('h2').innerText()).split(' · ')[0];
    await card.getByRole('link', { name: 'Review and decide' }).click();
    await page.getByRole('heading', { level: 1, name: new RegExp(`^${gate} · `) }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`request 1 of ${3 - i}`));
    assert.equal(await page.getByRole('radio', { checked: true }).count(), 0, 'no decision is preselected');
    await page.getByLabel('Comment').fill('approved in the browser');
    if (i === 0) {
      await accessible(page, 'one request');
      await shot(page, 'request');
      // Without a choice the form is not sent.
      await page.getByRole('button', { name: 'Review decision' }).click();
      assert.equal(await page.locator('input[name=decision]:invalid').count(), 3);
      assert.match(page.url(), /\/ui\/approvals\/[0-9a-f-]+$/);
    }
    await page.getByLabel('Approve', { exact: true }).check();
    await page.getByRole('button', { name: 'Review decision' }).click();
    await page.getByRole('heading', { name: 'Confirm your decision' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Cost impact: (Commits|Approves|Signs \d+ contracts totalling)/);
    if (i === 0) {
      await accessible(page, 'confirmation');
      await shot(page, 'confirm');
    }
    await page.getByRole('button', { name: /^Confirm: approve/ }).click();
    await page.waitForURL(/\/ui\/approvals\?decided=/);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`decision on ${gate} was recorded`));
  }
  await assert.doesNotReject(page.getByText('Nothing waits for a decision.').waitFor());
  await shot(page, 'approvals-done');

  // The planner's page, open all along, follows the run to the postmortem in place; the incident
  // was met by the contingency plan.
  await alice.locator('#live-run', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
  assert.equal(await alice.evaluate(() => window.e2eMarker), watching, 'the open page updated itself');
  assert.match(await alice.locator('#live-note').innerText(), /Updated: postmortem, completed/);
  assert.equal(await alice.locator('ol.stepper li.done').count(), 8);
  assert.ok((await alice.locator('#pm-h').count()) === 1, 'the postmortem is shown');
  await accessible(alice, 'completed overview');
  await shot(alice, 'planner-event-completed');
  await alice.goto(`${base}/ui/events/${id}?tab=contingency`);
  const incident = alice.locator('article.incident').first();
  assert.match(await incident.innerText(), /vendor_cancellation/);
  assert.match(await incident.innerText(), /handled by the contingency plan/);
  assert.ok((await incident.locator('ol.response li').count()) > 0, 'the contingency response is shown');
  await accessible(alice, 'contingency after the incident');
  await shot(alice, 'planner-event-contingency-after');
  await alice.goto(`${base}/ui/events/${id}?tab=budget`);
  assert.match(await alice.locator('main').innerText(), /Spend and variance/);

  // The audit views: decisions by type and owner for this event, and the change log.
  await alice.goto(`${base}/ui/audit?event=${id}&log=decisions&type=approval`);
  const rows = alice.locator('main table tbody tr');
  assert.equal(await rows.count(), 3);
  for (const row of await rows.all()) assert.match(await row.innerText(), /user:bob/);
  await accessible(alice, 'audit log');
  await shot(alice, 'audit-decisions');
  await alice.getByLabel('Log').selectOption('changes');
  await alice.getByLabel('Type').selectOption('');
  await alice.getByLabel('Owner or actor').fill('user:alice');
  await alice.getByRole('button', { name: 'Filter' }).click();
  const changes = await alice.locator('main table tbody tr').allInnerTexts();
  assert.ok(changes.length >= 2, 'the brief and the incident report are the planner\'s changes');
  assert.ok(changes.every((r) => r.includes('user:alice')));
  assert.ok(changes.some((r) => /incident/i.test(r)));
  await shot(alice, 'audit-changes');
  assert.equal((await alice.goto(`${base}/ui/audit?since=yesterday`)).status(), 422);
  assert.match(await alice.locator('main').innerText(), /not a date: write it as YYYY-MM-DD/);
  await accessible(alice, 'error page');
  await shot(alice, 'error');

  await alice.goto(base + '/ui');
  assert.match(await alice.locator('td.status').first().innerText(), /completed/);
  await shot(alice, 'dashboard-completed');

  // Downloads from the event page: the budget CSV and the report as files.
  await alice.goto(`${base}/ui/events/${id}`);
  const title = await alice.locator('h1').innerText();
  for (const [file, first] of [['budget.csv', /,/], ['report.md', new RegExp(`^# ${title}$`)]]) {
    const [download] = await Promise.all([
      alice.waitForEvent('download'),
      alice.getByRole('link', { name: file, exact: true }).click(),
    ]);
    assert.equal(download.suggestedFilename(), file);
    assert.match(readFileSync(await download.path(), 'utf8').split('\n')[0], first);
  }

  // Archiving: the completed event leaves the events list, stays whole, and comes back.
  await alice.getByRole('button', { name: 'Archive this event' }).click();
  await alice.locator('#archived').waitFor();
  assert.match(await alice.locator('#archived').innerText(), /hidden from the events list, kept whole/);
  await accessible(alice, 'archived event');
  await shot(alice, 'event-archived');
  await alice.goto(base + '/ui');
  assert.equal(await alice.getByRole('link', { name: title, exact: true }).count(), 0);
  await alice.getByRole('link', { name: 'Archived events' }).click();
  await alice.getByRole('heading', { name: 'Archived events' }).waitFor();
  await accessible(alice, 'archived events');
  await alice.getByRole('link', { name: title, exact: true }).click();
  await alice.getByRole('button', { name: 'Restore to the events list' }).click();
  await alice.getByRole('button', { name: 'Archive this event' }).waitFor();
  await alice.goto(base + '/ui');
  assert.equal(await alice.getByRole('link', { name: title, exact: true }).count(), 1);
  await alice.goto(`${base}/ui/audit?event=${id}&log=changes`);
  assert.match(await alice.locator('main').innerText(), /event archived .* by user:alice/);
  assert.match(await alice.locator('main').innerText(), /event restored from the archive by user:alice/);
});

test('a viewer sees no decision buttons, no forms and no contract terms; an approver with the contracts permission does', async () => {
  const brief = JSON.parse(readFileSync(join(root, 'examples/s01-meetup.json'), 'utf8'));
  const created = await api('alice', 'POST', '/api/v1/events', { brief });
  const id = created.body.id;
  await until('approvals to wait', async () => {
    const e = await api('vera', 'GET', `/api/v1/events/${id}`);
    return e.body.run_status === 'awaiting_approval';
  });
  const contracts = await api('bob', 'GET', `/api/v1/events/${id}/artifacts/vendor_contracts`);
  const terms = contracts.body.payload.vendors.map((v) => v.terms.payment_terms);
  assert.ok(terms.length > 0);

  const { page } = await signIn('vera');
  assert.equal(await page.getByRole('link', { name: 'New event' }).count(), 0);
  await page.getByRole('link', { name: /Approvals/ }).click();
  await page.waitForURL(base + '/ui/approvals');
  assert.ok((await page.locator('section.card').count()) >= 3);
  assert.equal(await page.getByRole('button', { name: 'Review decision' }).count(), 0);
  assert.equal(await page.getByRole('radio').count(), 0);
  // The inbox shows no amounts (what a request commits is on the confirmation step, which a
  // viewer cannot open): nothing of the contracts to hide there.
  assert.doesNotMatch(await page.locator('main').innerText(), /contracts totalling|Cost impact/);
  await accessible(page, 'viewer inbox');
  await shot(page, 'viewer-approvals');

  for (const name of TABS) await tab(page, id, name, 'viewer');
  await page.goto(`${base}/ui/events/${id}`);
  assert.equal(await page.getByRole('button', { name: 'Report incident' }).count(), 0);
  for (const name of ['logistics', 'venue']) {
    await page.goto(`${base}/ui/events/${id}?tab=${name}`);
    const text = await page.locator('main').innerText();
    assert.match(text, /hidden/i);
    for (const t of terms) assert.ok(!text.includes(t), `a viewer must not see "${t}"`);
  }
  await page.goto(`${base}/ui/events/${id}?tab=revisions&type=vendor_contracts`);
  const rev = await page.locator('main').innerText();
  assert.match(rev, /redacted: needs the contracts permission/);
  for (const t of terms) assert.ok(!rev.includes(t));
  await shot(page, 'viewer-revisions-redacted');
  const forged = await page.request.post(`${base}/ui/events/${id}/incidents`, { form: { csrf: 'x', kind: 'weather' } });
  assert.equal(forged.status(), 403);

  const bob = (await signIn('bob')).page;
  await bob.goto(`${base}/ui/events/${id}?tab=logistics`);
  assert.ok((await bob.locator('td.contract').count()) > 0);
  const seen = await bob.locator('main').innerText();
  assert.ok(terms.some((t) => seen.includes(t)), 'the contracts permission shows the terms');
  await shot(bob, 'contracts-logistics');
});

test('a live event waits for its day after the approvals, and a planner records task statuses on its task board', async () => {
  const brief = JSON.parse(readFileSync(join(root, 'examples/s01-meetup.json'), 'utf8'));
  brief.title = 'Live meetup (task board test)';
  const created = await api('alice', 'POST', '/api/v1/events', { brief });
  assert.equal(created.status, 201);
  const id = created.body.id;
  await until('approvals to wait', async () => {
    const e = await api('vera', 'GET', `/api/v1/events/${id}`);
    return e.body.run_status === 'awaiting_approval';
  });
  const pending = await api('bob', 'GET', '/api/v1/approvals?status=pending');
  for (const a of pending.body.items.filter((x) => x.event_id === id)) {
    const r = await api('bob', 'POST', `/api/v1/approvals/${a.id}/decision`, { decision: 'approve' });
    assert.equal(r.status, 200);
  }
  // Live by default: after the approvals the event waits for its day instead of simulating it.
  await until('the wait for the event day', async () => {
    const e = await api('vera', 'GET', `/api/v1/events/${id}`);
    return e.body.state === 'confirm' && typeof e.body.wake_at === 'string';
  });

  const { page } = await signIn('alice');
  await page.goto(`${base}/ui/events/${id}`);
  assert.match(await page.locator('#run-mode').innerText(), /^live$/);
  assert.match(await page.locator('#live-detail').innerText(), /Execute begins when the event starts/);
  assert.match(await page.locator('#gate-pass').innerText(), /a live event: Execute begins when the event starts, 8 Mar 2029 00:00 CET/);
  const board = page.locator('#task-board');
  const first = board.locator('tbody tr').first();
  const taskId = (await first.locator('td').first().innerText()).split(':')[0];
  assert.match(await first.locator('td.status').innerText(), /not started/);
  await accessible(page, 'live event with its task board');
  await shot(page, 'live-task-board');
  await page.getByLabel(`Status of ${taskId}`, { exact: true }).selectOption('done');
  await page.getByLabel(`Actual cost of ${taskId} in EUR`, { exact: true }).fill('120.50');
  await page.getByRole('button', { name: `Record ${taskId}`, exact: true }).click();
  await page.waitForURL(new RegExp(`/ui/events/${id}\\?task=${taskId}`));
  assert.match(await page.getByRole('status').first().innerText(), new RegExp(`The status of ${taskId} was recorded`));
  const row = page.locator('#task-board tbody tr', { hasText: `${taskId}:` });
  assert.match(await row.locator('td.status').innerText(), /done \(done on \d{4}-\d{2}-\d{2}\)/);
  assert.match(await row.innerText(), /120\.5 EUR/);
  const recorded = await api('vera', 'GET', `/api/v1/events/${id}/artifacts/runbook`);
  assert.equal(recorded.body.payload.entries.find((e) => e.task_id === taskId).actual_cost, '120.5');
  // Blocked without a reason is refused, naming the field; nothing is recorded.
  const second = page.locator('#task-board tbody tr').nth(1);
  const other = (await second.locator('td').first().innerText()).split(':')[0];
  await page.getByLabel(`Status of ${other}`, { exact: true }).selectOption('blocked');
  await page.getByRole('button', { name: `Record ${other}`, exact: true }).click();
  assert.match(await page.locator('main').innerText(), /needs the reason it is blocked/);
  // The record is a runbook revision by the planner, in the ChangeLog.
  const runbook = await api('vera', 'GET', `/api/v1/events/${id}/artifacts/runbook`);
  assert.equal(runbook.body.created_by, 'user:alice');
  assert.equal(runbook.body.revision, 1);
  await accessible(page, 'refused task update');

  // The program, edited on its page: a wrong length is refused on its row with what was typed
  // kept; corrected, it is the brief's next revision and the plan follows it.
  await page.goto(`${base}/ui/events/${id}`);
  await page.getByRole('link', { name: 'Edit the program' }).click();
  await page.getByRole('heading', { name: 'Program' }).waitFor();
  const sessions = brief.program.length;
  assert.equal(await page.getByLabel('Title of session 1', { exact: true }).inputValue(), brief.program[0].title);
  await accessible(page, 'program editor');
  await shot(page, 'program');
  const n = sessions + 1;
  await page.getByLabel(`Title of session ${n}`, { exact: true }).fill('Rust on microcontrollers');
  await page.getByLabel(`Speakers of session ${n}`, { exact: true }).fill('Ada Lovelace, Grace Hopper');
  await page.getByLabel(`Minutes of session ${n}`, { exact: true }).fill('half an hour');
  await page.getByLabel('Remove session 1', { exact: true }).check();
  await page.getByRole('button', { name: 'Save the program' }).click();
  assert.match(await page.getByRole('alert').innerText(), new RegExp(`Session ${n}: minutes: \`half an hour\` is not a whole number`));
  assert.equal(await page.getByLabel(`Title of session ${n}`, { exact: true }).inputValue(), 'Rust on microcontrollers');
  assert.equal(await page.getByLabel(`Title of session ${n}`, { exact: true }).getAttribute('aria-invalid'), 'true');
  await accessible(page, 'program editor with an error');
  await page.getByLabel(`Minutes of session ${n}`, { exact: true }).fill('25');
  await page.getByRole('button', { name: 'Save the program' }).click();
  await page.waitForURL(new RegExp(`/ui/events/${id}\\?program=2`));
  assert.match(await page.getByRole('status').first().innerText(), /The program was saved as brief revision 2/);
  const amended = await api('vera', 'GET', `/api/v1/events/${id}/artifacts/event_brief`);
  assert.equal(amended.body.revision, 2);
  assert.equal(amended.body.created_by, 'user:alice');
  const titles = amended.body.payload.program.map((p) => p.title);
  assert.equal(titles.length, sessions, 'one removed, one added');
  assert.ok(!titles.includes(brief.program[0].title));
  const added = amended.body.payload.program.find((p) => p.title === 'Rust on microcontrollers');
  assert.deepEqual(added.speakers, ['Ada Lovelace', 'Grace Hopper']);
  assert.equal(added.duration_minutes, 25);

  // The rest of the brief, edited on its page: the form comes filled from the brief; a wrong
  // currency is shown on its field with what was typed; corrected, only what changed is saved as
  // the next revision and the program stays as it was.
  await page.goto(`${base}/ui/events/${id}`);
  await page.getByRole('link', { name: 'Edit the brief' }).click();
  await page.getByRole('heading', { name: 'Edit the brief' }).waitFor();
  assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), brief.title);
  assert.equal(await page.getByLabel('Audience size', { exact: true }).inputValue(), String(brief.audience_size));
  await accessible(page, 'brief editor');
  await shot(page, 'brief-editor');
  await page.getByLabel('Audience size', { exact: true }).fill('35');
  await page.getByLabel('Currency', { exact: true }).fill('EURO');
  await page.getByRole('button', { name: 'Save the brief' }).click();
  assert.match(await page.getByRole('alert').innerText(), /Currency/);
  assert.equal(await page.getByLabel('Currency', { exact: true }).inputValue(), 'EURO');
  await accessible(page, 'brief editor with an error');
  await page.getByLabel('Currency', { exact: true }).fill('EUR');
  await page.getByRole('button', { name: 'Save the brief' }).click();
  await page.waitForURL(new RegExp(`/ui/events/${id}\\?brief=3`));
  assert.match(await page.getByRole('status').first().innerText(), /The brief was saved as revision 3/);
  const edited = await api('vera', 'GET', `/api/v1/events/${id}/artifacts/event_brief`);
  assert.equal(edited.body.revision, 3);
  assert.equal(edited.body.payload.audience_size, 35);
  assert.deepEqual(edited.body.payload.program, amended.body.payload.program, 'the program is kept');

  // A meetup six weeks away: planned from today, its first tasks are due within two weeks and
  // the dashboard lists them under upcoming deadlines, linked to its task board.
  const soon = JSON.parse(readFileSync(join(root, 'examples/s01-meetup.json'), 'utf8'));
  soon.title = 'Meetup in six weeks';
  soon.date_range = { start: '2027-01-12', end: '2027-01-12' };
  const next = await api('alice', 'POST', '/api/v1/events', { brief: soon });
  assert.equal(next.status, 201);
  await until('the meetup to wait for its calendar', async () => {
    const waiting = await api('bob', 'GET', `/api/v1/approvals?status=pending&event_id=${next.body.id}`);
    for (const a of waiting.body.items) await api('bob', 'POST', `/api/v1/approvals/${a.id}/decision`, { decision: 'approve' });
    const e = await api('vera', 'GET', `/api/v1/events/${next.body.id}`);
    return typeof e.body.wake_at === 'string';
  });
  await page.goto(base + '/ui');
  const deadlines = page.locator('#deadlines tbody tr');
  assert.ok((await deadlines.count()) > 0, 'upcoming deadlines are listed');
  assert.match(await deadlines.first().innerText(), /Meetup in six weeks/);
  assert.match(await deadlines.first().innerText(), /\(due (today|tomorrow|in \d+ days)\)/);
  await accessible(page, 'dashboard with upcoming deadlines');
  await shot(page, 'dashboard-deadlines');
  await deadlines.first().getByRole('link').click();
  await page.locator('#task-board').waitFor();
});
