// Launch page: follows the build event stream, shows the phases, the elapsed time and the live log (which follows new
// lines until the reader scrolls up), tells other tabs the state through the title and favicon, then opens the server.
(function () {
  const root = document.getElementById('launch');
  const buildUrl = root.dataset.buildUrl;
  const urlpath = root.dataset.urlpath || '';
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const elapsed = document.getElementById('elapsed');
  const failure = document.getElementById('failure');
  const order = ['waiting', 'fetching', 'building', 'launching', 'ready'];
  const labels = { waiting: 'Waiting', fetching: 'Fetching', building: 'Building', built: 'Launching', launching: 'Launching', ready: 'Ready', failed: 'Failed' };
  const colours = { working: '#0b5fa5', ready: '#1b7f3b', failed: '#b3261e' };
  const started = Date.now();
  let follow = true;
  let finished = false;

  function favicon(state) {
    const svg = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='6' fill='"
        + colours[state] + "'/><path d='M5 20h22l-3 6H8z' fill='white'/><path d='M10 19v-7h9l4 7z' fill='"
        + (state === 'failed' ? 'white' : '#f5b400') + "'/></svg>";
    let link = document.querySelector('link[rel="icon"]');
    link.type = 'image/svg+xml';
    link.href = 'data:image/svg+xml,' + encodeURIComponent(svg);
  }

  function clock() {
    const s = Math.round((Date.now() - started) / 1000);
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }

  const timer = setInterval(() => { if (!finished) elapsed.textContent = clock(); }, 1000);

  log.addEventListener('scroll', () => {
    follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  });

  let furthest = 0;
  function setPhase(phase) {
    const shown = phase === 'built' ? 'launching' : phase;
    // waiting for a seat after the build keeps the progress where it is: the message says why
    const at = Math.max(order.indexOf(shown), phase === 'failed' ? -1 : furthest);
    if (order.indexOf(shown) < 0 && phase !== 'waiting') return;
    furthest = at;
    document.querySelectorAll('.phases li').forEach((li, i) => {
      li.classList.toggle('done', i < at || shown === 'ready');
      li.classList.toggle('current', i === at && shown !== 'ready');
      if (i === at) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
    });
    if (!finished) document.title = labels[phase] + '… · ' + root.dataset.repo + ' · Ferry';
  }

  function append(text) {
    log.append(document.createTextNode(text));
    if (follow) log.scrollTop = log.scrollHeight;
  }

  function end() {
    finished = true;
    clearInterval(timer);
    elapsed.textContent = clock();
  }

  favicon('working');
  const es = new EventSource(buildUrl);
  es.onmessage = (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    const phase = data.phase;
    setPhase(phase);
    if (phase === 'failed') {
      es.close();
      end();
      const message = (data.message || 'The launch failed.').trim();
      const current = document.querySelector('.phases li.current');
      if (current) { current.classList.remove('current'); current.classList.add('failed'); }
      status.textContent = 'Failed.';
      document.getElementById('failure-message').textContent = message;
      document.getElementById('failure-files').hidden = !(data.status_code === 422);
      failure.hidden = false;
      document.title = 'Failed · ' + root.dataset.repo + ' · Ferry';
      favicon('failed');
      document.getElementById('retry').focus();
      return;
    }
    if (phase === 'ready') {
      es.close();
      end();
      status.textContent = 'Ready. Opening your notebook…';
      document.title = 'Ready · ' + root.dataset.repo + ' · Ferry';
      favicon('ready');
      let target = new URL(urlpath.replace(/^\/+/, ''), data.url);
      // the token goes to this session's server only, whatever the link's urlpath says
      if (!target.href.startsWith(data.url)) target = new URL(data.url);
      target.searchParams.set('token', data.token);
      location.replace(target.toString());
      return;
    }
    if (data.note) {
      const note = document.getElementById('note');
      note.textContent = data.note;
      note.hidden = false;
    }
    if (data.message) {
      append(data.message);
      status.textContent = data.message.trim().split('\n').pop();
    }
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED && !finished) {
      end();
      status.textContent = 'The connection to Ferry was lost. Reload the page to try again.';
    }
  };
  document.getElementById('retry').addEventListener('click', () => location.reload());
})();
