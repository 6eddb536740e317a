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
    const repoPart = opt.dataset.urlEncode === 'true' ? encodeURIComponent(r) : r.replace(/^\/+|\/+$/g, '');
    let l = base + '/v2/' + opt.value + '/' + repoPart + '/' + encodeRef(ref.value.trim() || opt.dataset.refDefault || 'HEAD');
    const p = path.value.trim();
    if (p) l += (pathType.value === 'url' ? '?urlpath=' : '?filepath=') + encodeURIComponent(p);
    return l;
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

  function snippets(l) {
    const badge = base + '/badge_logo.svg';
    return {
      url: l,
      markdown: '[![Launch with Ferry](' + badge + ')](' + l + ')',
      rst: '.. image:: ' + badge + '\n :target: ' + l,
      html: '<a href="' + l + '"><img src="' + badge + '" alt="Launch with Ferry"></a>'
    };
  }

  function update() {
    const opt = selected();
    repo.placeholder = opt.dataset.placeholder || '';
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
