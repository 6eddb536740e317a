// Launch page: follows the build event stream, shows phases and log lines, then opens the notebook server.
(function () {
  const root = document.getElementById('launch');
  const buildUrl = root.dataset.buildUrl;
  const urlpath = root.dataset.urlpath || '';
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const failure = document.getElementById('failure');
  const order = ['waiting', 'fetching', 'building', 'launching', 'ready'];
  const started = Date.now();
  let follow = true;

  log.addEventListener('scroll', () => {
    follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  });

  function setPhase(phase) {
    const shown = phase === 'built' ? 'launching' : phase;
    const at = order.indexOf(shown);
    if (at < 0) return;
    document.querySelectorAll('.phases li').forEach((li, i) => {
      li.classList.toggle('done', i < at);
      li.classList.toggle('current', i === at);
      if (i === at) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
    });
  }

  function append(text) {
    log.append(document.createTextNode(text));
    if (follow) log.scrollTop = log.scrollHeight;
  }

  const es = new EventSource(buildUrl);
  es.onmessage = (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    const phase = data.phase;
    setPhase(phase);
    if (phase === 'failed') {
      es.close();
      status.textContent = 'Failed after ' + Math.round((Date.now() - started) / 1000) + ' s.';
      document.getElementById('failure-message').textContent = (data.message || 'The launch failed.').trim();
      failure.hidden = false;
      document.title = 'Failed · Ferry';
      return;
    }
    if (phase === 'ready') {
      es.close();
      status.textContent = 'Ready. Opening your notebook…';
      document.title = 'Ready · Ferry';
      const target = new URL(urlpath.replace(/^\/+/, ''), data.url);
      target.searchParams.set('token', data.token);
      location.replace(target.toString());
      return;
    }
    if (data.message) {
      append(data.message);
      status.textContent = data.message.trim().split('\n').pop();
    }
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      status.textContent = 'The connection to Ferry was lost. Reload the page to try again.';
    }
  };
  document.getElementById('retry').addEventListener('click', () => location.reload());
})();
