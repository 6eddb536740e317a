// Home page: builds the launch link as the user types; the form still works without JavaScript (GET /launch).
(function () {
  const form = document.getElementById('launch-form');
  const repo = document.getElementById('repo');
  const ref = document.getElementById('ref');
  const path = document.getElementById('path');
  const pathType = document.getElementById('pathType');
  const preview = document.getElementById('link-preview');
  const error = document.getElementById('form-error');

  function encodeRef(r) {
    return r.split('/').map(encodeURIComponent).join('/');
  }

  function link() {
    const url = repo.value.trim();
    if (!url) return null;
    let l = '/v2/git/' + encodeURIComponent(url) + '/' + encodeRef(ref.value.trim() || 'HEAD');
    const p = path.value.trim();
    if (p) l += (pathType.value === 'url' ? '?urlpath=' : '?filepath=') + encodeURIComponent(p);
    return l;
  }

  function validate() {
    const url = repo.value.trim();
    if (!url) return 'Enter the URL of a git repository.';
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return 'The repository URL must start with https://.';
    return null;
  }

  function update() {
    const l = link();
    preview.textContent = l ? location.origin + l : '';
  }

  [repo, ref, path, pathType].forEach(el => el.addEventListener('input', update));
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
