// Operator dashboard: follows /admin/events (a snapshot every 2 s) and posts actions with the CSRF token.
(function () {
  const csrfHeader = document.querySelector('meta[name="csrf-header"]').content;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById('action-status');

  function duration(seconds) {
    if (seconds >= 3600) return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
    if (seconds >= 60) return Math.floor(seconds / 60) + ' min ' + (seconds % 60) + ' s';
    return seconds + ' s';
  }

  function cell(row, text, title) {
    const td = document.createElement('td');
    td.textContent = text;
    if (title) td.title = title;
    row.appendChild(td);
    return td;
  }

  async function act(url, done) {
    const headers = {};
    if (csrfHeader) headers[csrfHeader] = csrfToken;
    const r = await fetch(url, { method: 'POST', headers, credentials: 'same-origin' });
    const body = await r.json().catch(() => ({}));
    status.textContent = r.ok ? done(body) : r.status === 401
      ? 'Your login has ended; reload the page to log in again.'
      : (body.message || 'The action failed (' + r.status + ').');
  }

  function render(s) {
    document.getElementById('cap-sessions').textContent = s.capacity.sessions;
    document.getElementById('cap-quota').textContent = s.capacity.quotaTotal ? ' of ' + s.capacity.quotaTotal : '';
    document.getElementById('cap-waiting').textContent = s.capacity.waiting;
    document.getElementById('cap-builds').textContent = s.capacity.buildsInProgress;
    document.getElementById('cap-launches').textContent = s.capacity.launchesInProgress;
    document.getElementById('cap-ws').textContent = s.capacity.openWebSockets;

    const sessions = document.querySelector('#sessions tbody');
    sessions.replaceChildren();
    s.sessions.forEach(x => {
      const tr = document.createElement('tr');
      tr.dataset.session = x.id;
      cell(tr, x.id.slice(0, 8) + '…', x.id);
      cell(tr, x.repo + ' @ ' + x.ref);
      cell(tr, x.commit.slice(0, 10), x.commit);
      cell(tr, duration(x.ageSeconds));
      cell(tr, duration(x.idleSeconds));
      cell(tr, duration(x.cullInSeconds));
      const td = cell(tr, '');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'stop';
      b.textContent = 'Stop';
      b.setAttribute('aria-label', 'Stop session ' + x.id.slice(0, 8));
      b.addEventListener('click', () => act('/admin/api/sessions/' + x.id + '/stop', () => 'Session stopped.'));
      td.appendChild(b);
      sessions.appendChild(tr);
    });
    document.getElementById('no-sessions').hidden = s.sessions.length > 0;

    const builds = document.querySelector('#builds tbody');
    builds.replaceChildren();
    s.builds.forEach(x => {
      const tr = document.createElement('tr');
      cell(tr, x.repo);
      cell(tr, x.commit.slice(0, 10), x.commit);
      cell(tr, x.state);
      cell(tr, duration(x.seconds));
      const td = cell(tr, '');
      if (x.state === 'queued' || x.state === 'running') {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = 'Cancel';
        b.addEventListener('click', () => act('/admin/api/builds/' + x.key + '/cancel', () => 'Build cancelled.'));
        td.appendChild(b);
      }
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = 'Log';
      const pre = document.createElement('pre');
      pre.className = 'log';
      pre.textContent = x.log;
      details.append(summary, pre);
      td.appendChild(details);
      builds.appendChild(tr);
    });
    document.getElementById('no-builds').hidden = s.builds.length > 0;
  }

  document.getElementById('cull-now').addEventListener('click',
      () => act('/admin/api/cull', b => b.culled + ' idle session(s) stopped.'));
  const es = new EventSource('/admin/events');
  es.onmessage = ev => render(JSON.parse(ev.data));
})();
