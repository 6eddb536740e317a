// Home page: builds the launch link and share snippets as the user types. Without JavaScript the form still works
// (GET /launch redirects to the launch link).
(function () {
  const form = document.getElementById('launch-form');
  const provider = document.getElementById('provider');
  const repo = document.getElementById('repo');
  const ref = document.getElementById('ref');
  const path = document.getElementById('path');
  const pathType = document.getElementById('pathType');
  const error = document.getElementById('form-error');
  const base = form.dataset.publicBase || location.origin;

  function selected() {
    return provider.options[provider.selectedIndex];
  }

  function encodeRef(r) {
    return r.split('/').map(encodeURIComponent).join('/');
  }

  function link() {
    const r = repo.value.trim();
    if (!r) return null;
    const opt = selected();
    const repoPart = opt.dataset.urlEncode === 'true' || r.includes('://') ? encodeURIComponent(r)
      : r.replace(/^\/+|\/+$/g, '');
    // a record of a research archive (a DOI) names its version itself: no ref
    let l = base + '/v2/' + opt.value + '/' + repoPart + (opt.dataset.refEnabled === 'false' ? ''
      : '/' + encodeRef(ref.value.trim() || opt.dataset.refDefault || 'HEAD'));
    const p = path.value.trim();
    if (p) l += (pathType.value === 'url' ? '?urlpath=' : '?filepath=') + encodeURIComponent(p);
    return l;
  }

  // Pasting a provider's web URL fills the fields: https://github.com/org/repo/tree/branch/path/file.ipynb gives
  // GitHub, org/repo, branch and the file to open; an unknown host becomes a plain git URL.
  const hosts = {
    gh: (form.dataset.githubHost || 'https://github.com').replace(/\/+$/, ''),
    gl: (form.dataset.gitlabHost || 'https://gitlab.com').replace(/\/+$/, ''),
    gist: (form.dataset.gistHost || 'https://gist.github.com').replace(/\/+$/, '')
  };

  // A blob/ URL, or a tree/ URL ending in a file name, opens that file; a tree/ URL of a folder opens the folder.
  function setPath(found, segments, kind) {
    const joined = segments.join('/');
    if (kind === 'blob' || /\.[A-Za-z0-9]+$/.test(segments[segments.length - 1])) {
      found.path = joined;
      found.kind = 'file';
    } else {
      found.path = 'tree/' + joined;
      found.kind = 'url';
    }
  }

  /** The path segments of `url` under `host` (which may have a path of its own), or null when it is elsewhere. */
  function under(host, url) {
    const prefix = host + '/';
    if (!url.href.startsWith(prefix)) return null;
    return url.href.slice(prefix.length).split(/[?#]/)[0].split('/').filter(Boolean).map(decodeURIComponent);
  }

  /** A DOI or record URL that a research archive's provider recognises (its detect regex, group "repo"). */
  function recogniseRecord(text) {
    for (const opt of provider.options) {
      if (opt.dataset.refEnabled !== 'false' || !opt.dataset.detect) continue;
      let match = null;
      try { match = new RegExp(opt.dataset.detect).exec(text.trim()); } catch (e) { continue; }
      if (match && match.groups && match.groups.repo) return { provider: opt.value, repo: match.groups.repo };
    }
    return null;
  }

  function recognise(text) {
    const record = recogniseRecord(text);
    if (record) return record;
    let url;
    try { url = new URL(text.trim()); } catch (e) { return null; }
    if (!/^https?:$/.test(url.protocol)) return null;
    let parts = under(hosts.gh, url);
    if (parts && parts.length >= 2) {
      const found = { provider: 'gh', repo: parts[0] + '/' + parts[1].replace(/\.git$/, '') };
      if ((parts[2] === 'tree' || parts[2] === 'blob') && parts.length >= 4) {
        found.ref = parts[3];
        if (parts.length > 4) setPath(found, parts.slice(4), parts[2]);
      }
      return found;
    }
    parts = under(hosts.gl, url);
    if (parts && parts.length >= 2) {
      const dash = parts.indexOf('-');
      const project = (dash < 0 ? parts : parts.slice(0, dash)).join('/').replace(/\.git$/, '');
      const found = { provider: 'gl', repo: project };
      if (dash >= 0 && (parts[dash + 1] === 'tree' || parts[dash + 1] === 'blob') && parts.length > dash + 2) {
        found.ref = parts[dash + 2];
        if (parts.length > dash + 3) setPath(found, parts.slice(dash + 3), parts[dash + 1]);
      }
      return found;
    }
    parts = under(hosts.gist, url);
    if (parts && parts.length >= 2) {
      return { provider: 'gist', repo: parts[0] + '/' + parts[1], ref: parts[2] };
    }
    return { provider: 'git', repo: text.trim() };
  }

  function applyRecognised() {
    const found = recognise(repo.value);
    if (!found) return;
    provider.value = found.provider;
    repo.value = found.repo;
    if (found.ref) ref.value = found.ref;
    if (found.path) {
      path.value = found.path;
      pathType.value = found.kind;
    }
    update();
  }

  function validate() {
    const r = repo.value.trim();
    if (!r) return 'Enter a repository.';
    if (provider.value === 'git' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(r)) return 'The repository URL must start with https://.';
    if ((provider.value === 'gh' || provider.value === 'gist') && !/^[^/\s]+\/[^/\s]+\/?$/.test(r)) {
      return 'Write the repository as owner/name.';
    }
    return null;
  }

  // The record a research-archive link names (title and authors), asked once the DOI or URL stops changing; the
  // snippets then say what they launch.
  let record = null;
  let recordFor = '';
  let recordTimer = null;
  function askRecord() {
    const opt = selected();
    const r = repo.value.trim();
    const key = opt.value + '/' + r;
    if (opt.dataset.refEnabled !== 'false' || !r) { record = null; recordFor = ''; return; }
    if (key === recordFor) return;
    clearTimeout(recordTimer);
    recordTimer = setTimeout(async () => {
      recordFor = key;
      record = null;
      const spec = (opt.dataset.urlEncode === 'true' || r.includes('://')) ? encodeURIComponent(r) : r;
      try {
        const answer = await fetch(base + '/api/record/' + opt.value + '/' + spec, { headers: { Accept: 'application/json' } });
        const body = await answer.json();
        if (answer.ok && recordFor === key) record = body;
      } catch (e) { /* snippets stay plain */ }
      update();
    }, 400);
  }

  function escapeHtml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  function snippets(l) {
    const badge = base + '/badge_logo.svg';
    const named = record && record.citation ? record.citation : '';
    const alt = named ? 'Launch ' + named + ' with Ferry' : 'Launch with Ferry';
    const markdownAlt = alt.replace(/[\[\]\\]/g, '\\$&');
    return {
      url: l,
      markdown: '[![' + markdownAlt + '](' + badge + ')](' + l + ')',
      rst: '.. image:: ' + badge + '\n :target: ' + l + (named ? '\n :alt: ' + alt : ''),
      html: '<a href="' + l + '"><img src="' + badge + '" alt="' + escapeHtml(alt) + '"></a>'
    };
  }

  function update() {
    askRecord();
    const opt = selected();
    repo.placeholder = opt.dataset.placeholder || '';
    ref.disabled = opt.dataset.refEnabled === 'false';
    document.getElementById('repo-label').textContent = opt.dataset.label || 'Repository';
    const l = link();
    const s = l ? snippets(l) : {url: '', markdown: '', rst: '', html: ''};
    Object.keys(s).forEach(k => { document.getElementById('snippet-' + k).value = s[k]; });
  }

  document.querySelectorAll('button.copy').forEach(button => {
    button.addEventListener('click', async () => {
      const text = document.getElementById(button.dataset.copy).value;
      if (!text) return;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = 'Copied';
      } catch (e) {
        document.getElementById(button.dataset.copy).select();
        button.textContent = 'Press Ctrl+C';
      }
      setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    });
  });

  [provider, repo, ref, path, pathType].forEach(el => el.addEventListener('input', update));
  repo.addEventListener('paste', () => setTimeout(applyRecognised, 0));
  repo.addEventListener('change', applyRecognised);
  provider.addEventListener('change', update);
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const problem = validate();
    error.hidden = !problem;
    error.textContent = problem || '';
    if (problem) { repo.focus(); return; }
    location.assign(link());
  });
  update();
})();
