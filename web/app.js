// Gatehouse's web page: sign up, log in, the user list with avatars, a
// profile picture upload with progress, log out. Plain JavaScript without a
// build step, so the same files work embedded in the server (at /) and as
// static files anywhere else (then with the API's address in config.js).
'use strict';

(function () {
  const PAGE_SIZE = 20;
  // {"api": <the API's base URL>, "refresh_token": ...}: a session is bound to
  // the API that issued it.
  const SESSION_KEY = 'gatehouse.session';
  // The refresh token alone, as pages before that binding kept it: its API is
  // unknown, so it is dropped unsent.
  const UNBOUND_TOKEN_KEY = 'gatehouse.refresh_token';
  const CHOICE_KEY = 'gatehouse.api';  // the chooser's pick, when config.js lists several

  // ---------------------------------------------------------------------------
  // Where the API is: only where the deployment says, never where the page's
  // address says. A link to this page with ?api=https://evil, honoured, would
  // send evil the password typed into the login form and, on every load, the
  // session's refresh token (evil answers 401, the page forgets the token, and
  // reuse detection never fires). So config.js lists the API base URLs this
  // copy may use (web/config.js, edited by whoever deploys a static copy);
  // none listed means the page's own origin. Gatehouse serves its own
  // config.js with none (src/web/config.js), and holds the page to its own
  // origin with its Content-Security-Policy header too (connect-src 'self').
  function baseUrl(value) {
    let url;
    try {
      url = new URL(value);
    } catch (_) {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.username || url.password || url.search || url.hash) return null;
    return url.origin + url.pathname.replace(/\/+$/, '');
  }

  function configuredApis() {
    const config = window.GATEHOUSE_CONFIG;  // missing (no config.js): the defaults
    const listed = config && Array.isArray(config.apiBases) ? config.apiBases : [];
    if (listed.length === 0) {
      if (window.location.protocol === 'http:' || window.location.protocol === 'https:') {
        return { bases: [window.location.origin] };
      }
      return { error: 'Opened from a file: list the API\'s address in config.js (apiBases), e.g. \'http://127.0.0.1:3000\'.' };
    }
    const bases = [];
    for (const entry of listed) {
      const base = typeof entry === 'string' ? baseUrl(entry) : null;
      if (!base) return { error: 'config.js lists an API that is not an http:// or https:// base URL: ' + String(entry) + '.' };
      if (!bases.includes(base)) bases.push(base);
    }
    return { bases };
  }

  // One of `bases` for the life of the page: the chooser's last pick, else
  // the API of the stored session, else the first. Switching reloads the page,
  // so no request of one API ever finishes under another.
  function chooseApi(bases) {
    const choice = readStorage(CHOICE_KEY);
    if (bases.includes(choice)) return choice;
    const session = storedSession();
    if (session && bases.includes(session.api)) return session.api;
    return bases[0];
  }

  // ---------------------------------------------------------------------------
  // Tokens. Where each one lives, and why:
  // - The access token (a JWT, 15 minutes by default) is kept only in this
  //   closure. It is never written to storage, so it is gone with the page and
  //   nothing that reads storage later (another script, an extension, a disk
  //   image) finds a bearer token there.
  // - The refresh token is in sessionStorage, so that reloading this tab keeps
  //   the user signed in: on start the page trades it for a new access token.
  //   sessionStorage is per tab and cleared when the tab closes; localStorage
  //   would keep a 30-day credential on disk and share it between tabs, and
  //   tabs taking turns with one rotating token end up presenting a used one,
  //   which revokes the whole session. An HttpOnly cookie would hide it from
  //   scripts altogether, but the API takes refresh tokens in the JSON body
  //   (it serves other origins and non-browser clients too); against script
  //   injection this page relies on its CSP (no inline or foreign scripts) and
  //   on never putting API data into HTML (textContent only). It is stored
  //   with the base URL of the API that issued it and presented to that API
  //   only: a copy configured for another API never sends it there.
  let accessToken = null;
  let refreshInFlight = null;  // one refresh at a time, shared by every caller
  let currentUser = null;

  // Storage disabled: the session lasts as long as the page.
  function readStorage(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (_) {
      return null;
    }
  }

  function writeStorage(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, value);
      return true;
    } catch (_) {
      return false;
    }
  }

  function storedSession() {
    let record = null;
    try {
      record = JSON.parse(readStorage(SESSION_KEY) || 'null');
    } catch (_) {
      return null;
    }
    const valid = record && typeof record.api === 'string' && typeof record.refresh_token === 'string';
    return valid ? record : null;
  }

  // The stored refresh token if, and only if, this page's API issued it: a
  // token is never presented anywhere else.
  function storedRefreshToken() {
    const session = storedSession();
    return session && session.api === apiBase ? session.refresh_token : null;
  }

  // Keeps `token` for this page's API, or forgets this API's session (a
  // session of another API, kept for the chooser, stays).
  function storeRefreshToken(token) {
    if (token) writeStorage(SESSION_KEY, JSON.stringify({ api: apiBase, refresh_token: token }));
    else if (storedRefreshToken()) writeStorage(SESSION_KEY, null);
  }

  function adoptSession(body) {
    accessToken = body.token;
    storeRefreshToken(body.refresh_token);
    if (body.user) currentUser = body.user;
  }

  function forgetSession() {
    accessToken = null;
    currentUser = null;
    storeRefreshToken(null);
  }

  // ---------------------------------------------------------------------------
  // Errors. Every failure becomes an ApiError: status 0 for the network.
  class ApiError extends Error {
    constructor(status, code, message, extra) {
      super(message || code);
      this.status = status;
      this.code = code;
      this.field = extra && extra.field;
      this.retryAfter = extra && extra.retryAfter;
      this.requestId = extra && extra.requestId;
    }
  }

  // Thrown when the session cannot go on (refresh refused): the caller
  // stops, and the page is already back on the login form.
  class SessionEnded extends Error {}

  function errorFromResponse(status, text, getHeader) {
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;  // a proxy's HTML error page, say
    }
    const e = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
    const retry = Number.parseInt(getHeader('retry-after') || '', 10);
    return new ApiError(status, typeof e.code === 'string' ? e.code : 'http_' + status,
                        typeof e.message === 'string' ? e.message : '', {
                          field: typeof e.field === 'string' ? e.field : undefined,
                          retryAfter: Number.isFinite(retry) ? retry : undefined,
                          requestId: getHeader('x-request-id') || undefined,
                        });
  }

  function formatDuration(seconds) {
    if (seconds < 90) return seconds + (seconds === 1 ? ' second' : ' seconds');
    const minutes = Math.ceil(seconds / 60);
    if (minutes < 90) return minutes + ' minutes';
    return Math.ceil(minutes / 60) + ' hours';
  }

  function formatBytes(n) {
    if (n < 1024) return n + ' bytes';
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + ' KB';
    return (n / (1024 * 1024)).toFixed(1) + ' MB';
  }

  const FIELD_MESSAGES = {
    name: 'Enter your name: 1 to 100 characters, without control characters.',
    email: 'Enter a valid e-mail address, like ada@example.com.',
    password: 'The password must be 8 to 72 characters long (72 bytes at most).',
    limit: 'The list could not be loaded: the page size was refused.',
    cursor: 'The list could not be continued: reload it.',
    key: 'The upload key was refused.',
  };

  // A human sentence for every error code of the API (README's table), in the
  // context of what the user was doing.
  function describeError(err, context) {
    if (!(err instanceof ApiError)) return 'Something unexpected went wrong: ' + String(err && err.message || err);
    switch (err.code) {
      case 'network':
        return 'Cannot reach the server at ' + apiBase + '. Check that it is running and try again.';
      case 'validation_failed':
        return FIELD_MESSAGES[err.field] || 'Some of the input was not accepted' +
               (err.message ? ': ' + err.message + '.' : '.');
      case 'invalid_json':
        return 'The server could not read the request (invalid JSON). Reload the page and try again.';
      case 'missing_file':
        return 'Choose a picture first: the server received no file, or an empty one.';
      case 'invalid_multipart':
        return 'The upload arrived damaged (malformed form data). Try again.';
      case 'bad_request':
      case 'invalid_event':
        return 'The server could not understand the request. Try again.';
      case 'invalid_credentials':
        return 'Wrong e-mail or password.';
      case 'unauthorized':
        return 'Your session has expired. Log in again.';
      case 'invalid_refresh_token':
        return 'Your session has ended (it expired, was logged out, or was used elsewhere). Log in again.';
      case 'invalid_signature':
        return 'The link or upload form was tampered with or is not valid here.';
      case 'url_expired':
        return 'The picture link has expired. Reload the list.';
      case 'upload_expired':
        return 'The upload form expired. Try the upload again.';
      case 'forbidden':
        return 'You are not allowed to do that.';
      case 'not_found':
        return context === 'session' || context === 'upload'
          ? 'Your account no longer exists.'
          : 'Not found: the server has no such page or record.';
      case 'method_not_allowed':
        return 'The server does not accept this request here (method not allowed). Does config.js point at a Gatehouse API?';
      case 'email_taken':
        return 'An account with this e-mail already exists. Log in instead.';
      case 'upload_changed':
        return 'The uploaded file changed while it was being checked. Try again.';
      case 'payload_too_large':
        return context === 'upload'
          ? 'This picture is too large for the server. Choose a smaller one.'
          : 'The request is too large for the server.';
      case 'too_many_parts':
        return 'The upload form had too many parts: send the picture alone.';
      case 'unsupported_media_type':
        return context === 'upload'
          ? 'This file is not a JPEG, PNG, GIF or WebP image. Choose a picture in one of these formats.'
          : 'The server did not accept the format of the request.';
      case 'rate_limited':
        return 'Too many attempts. ' + (err.retryAfter !== undefined
          ? 'Try again in ' + formatDuration(err.retryAfter) + '.'
          : 'Wait a while, then try again.');
      case 'header_fields_too_large':
        return 'The request headers were too large for the server.';
      case 'storage_unavailable':
      case 'server_busy':
        return 'The service is busy or temporarily unavailable. Try again in ' +
               formatDuration(err.retryAfter || 1) + '.';
      case 'internal':
        return 'The server ran into an internal error. Try again later.';
      default:
        return (err.message ? err.message.charAt(0).toUpperCase() + err.message.slice(1) : 'The request failed') +
               ' (HTTP ' + err.status + ').';
    }
  }

  // ---------------------------------------------------------------------------
  // HTTP. Every request goes to apiBase, set once at start from config.js.
  let apiBase = '';

  async function request(method, path, options) {
    const opts = options || {};
    const headers = { accept: 'application/json' };
    if (opts.token) headers.authorization = 'Bearer ' + opts.token;
    let body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    let response;
    try {
      // Tokens travel in headers and bodies, never in cookies.
      response = await fetch(apiBase + path, { method, headers, body, credentials: 'omit', cache: 'no-store' });
    } catch (_) {
      throw new ApiError(0, 'network', 'network error');
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) throw errorFromResponse(response.status, text, (h) => response.headers.get(h));
    if (response.status === 204 || !text) return null;
    try {
      return JSON.parse(text);
    } catch (_) {
      throw new ApiError(response.status, 'bad_response', 'the server answered something that is not JSON');
    }
  }

  // Trades the refresh token for a new access token (and its successor:
  // refresh tokens rotate). Concurrent callers share one request. A refusal
  // ends the session (back to the login form); a network or server failure
  // keeps the refresh token so that a later attempt can still succeed.
  function refreshSession() {
    if (!refreshInFlight) {
      refreshInFlight = (async () => {
        const token = storedRefreshToken();
        if (!token) throw endSession(null);
        try {
          adoptSession(await request('POST', '/token/refresh', { json: { refresh_token: token } }));
        } catch (err) {
          if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
            throw endSession(err);
          }
          throw err;
        }
      })().finally(() => {
        refreshInFlight = null;
      });
    }
    return refreshInFlight;
  }

  // Runs `attempt(token)` with the access token; on a 401, one silent refresh
  // and one retry. A second 401 means the session is over.
  async function withSession(attempt) {
    if (!accessToken) await refreshSession();  // after a reload: only the refresh token is left
    const used = accessToken;
    try {
      return await attempt(used);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
    // Another call may have refreshed meanwhile: then just use its token.
    if (accessToken === used) await refreshSession();
    try {
      return await attempt(accessToken);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw endSession(err);
      throw err;
    }
  }

  function authed(method, path, options) {
    return withSession((token) => request(method, path, Object.assign({}, options, { token })));
  }

  // POST /upload_profile_pic with XMLHttpRequest, the one browser API that
  // reports upload progress. The file goes in the multipart part `image`.
  function uploadOnce(file, token, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', apiBase + '/upload_profile_pic');
      xhr.setRequestHeader('authorization', 'Bearer ' + token);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      });
      xhr.upload.addEventListener('load', () => onProgress(1));
      xhr.addEventListener('load', () => {
        const header = (h) => xhr.getResponseHeader(h);
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText));
          } catch (_) {
            reject(new ApiError(xhr.status, 'bad_response', 'the server answered something that is not JSON'));
          }
        } else {
          reject(errorFromResponse(xhr.status, xhr.responseText, header));
        }
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'network error')));
      xhr.addEventListener('timeout', () => reject(new ApiError(0, 'network', 'timed out')));
      xhr.timeout = 120000;
      const form = new FormData();
      form.append('image', file, file.name || 'picture');
      xhr.send(form);
    });
  }

  // ---------------------------------------------------------------------------
  // The page.
  const $ = (id) => document.getElementById(id);
  const el = {
    notice: $('notice'),
    pageError: $('page-error'),
    sessionBar: $('session-bar'),
    whoami: $('whoami'),
    logout: $('logout-button'),
    signedOut: $('signed-out-view'),
    signedOutTitle: $('signed-out-title'),
    signedIn: $('signed-in-view'),
    signedInTitle: $('signed-in-title'),
    loginForm: $('login-form'),
    loginEmail: $('login-email'),
    loginPassword: $('login-password'),
    loginError: $('login-error'),
    signupForm: $('signup-form'),
    signupName: $('signup-name'),
    signupEmail: $('signup-email'),
    signupPassword: $('signup-password'),
    signupError: $('signup-error'),
    myAvatar: $('my-avatar'),
    myName: $('my-name'),
    myEmail: $('my-email'),
    uploadForm: $('upload-form'),
    uploadFile: $('upload-file'),
    uploadButton: $('upload-button'),
    progressRow: $('upload-progress-row'),
    progress: $('upload-progress'),
    percent: $('upload-percent'),
    uploadStatus: $('upload-status'),
    uploadError: $('upload-error'),
    usersTitle: $('users-title'),
    usersList: $('users-list'),
    usersCount: $('users-count'),
    usersError: $('users-error'),
    usersMore: $('users-more'),
    usersReload: $('users-reload'),
    apiShown: $('api-shown'),
    apiBase: $('api-base'),
    apiChooser: $('api-chooser'),
    apiChoice: $('api-choice'),
  };

  function say(message) {
    el.notice.textContent = message || '';
  }

  function showFormError(target, message, inputs, invalidInput) {
    target.textContent = message || '';
    for (const input of inputs) input.removeAttribute('aria-invalid');
    if (invalidInput) {
      invalidInput.setAttribute('aria-invalid', 'true');
      invalidInput.focus();
    }
  }

  // A form at work ignores further submits. Its button is marked rather than
  // disabled: disabling the focused button would drop focus to the page, and
  // a disabled field could not take focus to show its error.
  function setBusy(form, busy) {
    form.dataset.busy = busy ? 'true' : '';
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
    for (const button of form.querySelectorAll('button[type="submit"]')) {
      if (busy) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
    }
  }

  const isBusy = (form) => form.dataset.busy === 'true';

  function showSignedOut(options) {
    const opts = options || {};
    generation += 1;  // drop answers of requests made for the old session
    el.signedIn.hidden = true;
    el.sessionBar.hidden = true;
    el.signedOut.hidden = false;
    el.usersList.replaceChildren();
    el.loginPassword.value = '';
    if (opts.error) el.loginError.textContent = opts.error;
    if (opts.focus !== false) el.signedOutTitle.focus();
  }

  function showSignedIn(options) {
    const opts = options || {};
    el.signedOut.hidden = true;
    el.signedIn.hidden = false;
    el.sessionBar.hidden = false;
    el.loginError.textContent = '';
    el.signupError.textContent = '';
    renderMe();
    resetUpload();
    if (opts.focus !== false) el.signedInTitle.focus();
    loadUsers(true);
  }

  // The session is over: back to the login form, saying why. A request that
  // was still under way when the user logged out ends here too: the login
  // form is already showing, and stays as it is.
  function endSession(err) {
    forgetSession();
    if (el.signedOut.hidden) {
      showSignedOut({ error: err ? describeError(err, 'session') : 'Your session has ended. Log in again.' });
    }
    return new SessionEnded('session ended');
  }

  function renderMe() {
    if (!currentUser) return;
    el.signedInTitle.textContent = 'Welcome, ' + currentUser.name;
    el.whoami.textContent = 'Signed in as ' + currentUser.name;
    el.myName.textContent = currentUser.name;
    el.myEmail.textContent = currentUser.email;
    fillAvatar(el.myAvatar, currentUser);
  }

  // --- avatars -----------------------------------------------------------------
  function initials(name) {
    const words = String(name || '').trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return '?';
    const first = Array.from(words[0])[0] || '';
    const last = words.length > 1 ? Array.from(words[words.length - 1])[0] || '' : '';
    return (first + last).toLocaleUpperCase();
  }

  function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function isHttpUrl(value) {
    if (typeof value !== 'string') return false;
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch (_) {
      return false;
    }
  }

  function showInitials(target, user) {
    target.replaceChildren();
    target.classList.add('avatar-initials');
    target.style.setProperty('--avatar-hue', String(hue(user.userId || user.name)));
    target.textContent = initials(user.name);
  }

  // The picture when there is one (a signed, time-limited URL), else the
  // initials; also the initials when the picture fails to load (its link
  // expired, say). The name is always beside it, so the image is decorative.
  function fillAvatar(target, user) {
    target.setAttribute('aria-hidden', 'true');
    if (!isHttpUrl(user.profile_image)) {
      showInitials(target, user);
      return;
    }
    const img = document.createElement('img');
    img.alt = '';
    img.decoding = 'async';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', () => showInitials(target, user), { once: true });
    img.src = user.profile_image;
    target.classList.remove('avatar-initials');
    target.replaceChildren(img);
  }

  // --- the user list ----------------------------------------------------------
  let generation = 0;  // bumped by Reload and sign-out: stale pages are dropped
  let nextCursor = null;
  let shownUsers = new Set();

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

  function userItem(user) {
    const li = document.createElement('li');
    li.className = 'user';
    li.dataset.userId = user.userId;
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    fillAvatar(avatar, user);
    const text = document.createElement('div');
    text.className = 'user-text';
    const name = document.createElement('span');
    name.className = 'user-name';
    name.textContent = user.name;
    if (currentUser && user.userId === currentUser.userId) {
      const you = document.createElement('span');
      you.className = 'badge';
      you.textContent = 'you';
      name.append(' ', you);
    }
    text.append(name);
    // Only the caller's own entry has an e-mail: the list shows everyone
    // else in the public view (no e-mail, role or MFA state).
    if (typeof user.email === 'string') {
      const email = document.createElement('span');
      email.className = 'user-email';
      email.textContent = user.email;
      text.append(email);
    }
    li.append(avatar, text);
    const created = new Date(user.createdAt);
    if (!Number.isNaN(created.getTime())) {
      const time = document.createElement('time');
      time.className = 'user-date';
      time.dateTime = user.createdAt;
      time.textContent = 'Joined ' + dateFormat.format(created);
      li.append(time);
    }
    return li;
  }

  async function loadUsers(fromStart) {
    if (fromStart) {
      generation += 1;
      nextCursor = null;
      shownUsers = new Set();
      el.usersList.replaceChildren();
      el.usersCount.textContent = '';
    }
    const mine = generation;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (!fromStart && nextCursor) query.set('cursor', nextCursor);
    el.usersError.textContent = '';
    el.usersList.setAttribute('aria-busy', 'true');
    el.usersMore.setAttribute('aria-disabled', 'true');
    try {
      const page = await authed('GET', '/users?' + query.toString());
      if (mine !== generation) return;
      const users = Array.isArray(page && page.users) ? page.users : [];
      for (const user of users) {
        if (!user || typeof user.userId !== 'string' || shownUsers.has(user.userId)) continue;
        shownUsers.add(user.userId);
        el.usersList.append(userItem(user));
      }
      nextCursor = typeof page.next_cursor === 'string' ? page.next_cursor : null;
      if (nextCursor === null && document.activeElement === el.usersMore) el.usersTitle.focus();
      el.usersMore.hidden = nextCursor === null;
      el.usersCount.textContent = shownUsers.size === 1
        ? '1 user shown' + (nextCursor ? '; there are more.' : '.')
        : shownUsers.size + ' users shown' + (nextCursor ? '; there are more.' : '.');
    } catch (err) {
      if (err instanceof SessionEnded || mine !== generation) return;
      el.usersError.textContent = describeError(err, 'users');
    } finally {
      if (mine === generation) {
        el.usersList.setAttribute('aria-busy', 'false');
        el.usersMore.removeAttribute('aria-disabled');
      }
    }
  }

  // --- upload ---------------------------------------------------------------------
  function setProgress(fraction) {
    const percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    el.progress.value = percent;
    el.percent.textContent = percent + '%';
  }

  function resetUpload() {
    el.uploadForm.reset();
    el.progressRow.hidden = true;
    setProgress(0);
    el.uploadStatus.textContent = '';
    el.uploadError.textContent = '';
    el.uploadFile.removeAttribute('aria-invalid');
  }

  async function onUpload(event) {
    event.preventDefault();
    if (isBusy(el.uploadForm)) return;
    const file = el.uploadFile.files && el.uploadFile.files[0];
    el.uploadStatus.textContent = '';
    if (!file) {
      showFormError(el.uploadError, 'Choose a picture first.', [el.uploadFile], el.uploadFile);
      return;
    }
    showFormError(el.uploadError, '', [el.uploadFile]);
    el.progressRow.hidden = false;
    setProgress(0);
    el.uploadStatus.textContent = 'Uploading ' + file.name + ' (' + formatBytes(file.size) + ')…';
    setBusy(el.uploadForm, true);
    try {
      const result = await withSession((token) => {
        setProgress(0);
        return uploadOnce(file, token, (fraction) => {
          setProgress(fraction);
          if (fraction >= 1) el.uploadStatus.textContent = 'Uploaded; the server is checking the picture…';
        });
      });
      currentUser = result.user;
      renderMe();
      // The same user in the list gets the new picture too.
      const item = el.usersList.querySelector('li[data-user-id="' + CSS.escape(currentUser.userId) + '"]');
      if (item) item.replaceWith(userItem(currentUser));
      el.uploadStatus.textContent = 'Your new picture is saved.';
    } catch (err) {
      if (err instanceof SessionEnded) return;
      el.uploadStatus.textContent = '';
      let message = describeError(err, 'upload');
      if (err instanceof ApiError && err.code === 'payload_too_large') {
        message = 'This picture (' + formatBytes(file.size) + ') is too large for the server. Choose a smaller one.';
      }
      showFormError(el.uploadError, message, [el.uploadFile], el.uploadFile);
    } finally {
      setBusy(el.uploadForm, false);
    }
  }

  // --- forms ----------------------------------------------------------------------
  const FIELD_INPUTS = () => ({
    login: { email: el.loginEmail, password: el.loginPassword },
    signup: { name: el.signupName, email: el.signupEmail, password: el.signupPassword },
  });

  async function onLogin(event) {
    event.preventDefault();
    if (isBusy(el.loginForm)) return;
    const inputs = [el.loginEmail, el.loginPassword];
    const email = el.loginEmail.value.trim();
    const password = el.loginPassword.value;
    if (!email) return showFormError(el.loginError, 'Enter your e-mail address.', inputs, el.loginEmail);
    if (!password) return showFormError(el.loginError, 'Enter your password.', inputs, el.loginPassword);
    showFormError(el.loginError, '', inputs);
    setBusy(el.loginForm, true);
    say('Logging in…');
    try {
      adoptSession(await request('POST', '/login', { json: { email, password } }));
      say('Logged in as ' + currentUser.name + '.');
      showSignedIn();
    } catch (err) {
      say('');
      const field = err instanceof ApiError ? FIELD_INPUTS().login[err.field] : null;
      showFormError(el.loginError, describeError(err, 'login'), inputs,
                    field || (err.code === 'invalid_credentials' ? el.loginPassword : null));
    } finally {
      setBusy(el.loginForm, false);
    }
  }

  async function onSignup(event) {
    event.preventDefault();
    if (isBusy(el.signupForm)) return;
    const inputs = [el.signupName, el.signupEmail, el.signupPassword];
    const name = el.signupName.value.trim();
    const email = el.signupEmail.value.trim();
    const password = el.signupPassword.value;
    if (!name) return showFormError(el.signupError, 'Enter your name.', inputs, el.signupName);
    if (!email) return showFormError(el.signupError, 'Enter your e-mail address.', inputs, el.signupEmail);
    if (password.length < 8) {
      return showFormError(el.signupError, 'Choose a password of at least 8 characters.', inputs, el.signupPassword);
    }
    showFormError(el.signupError, '', inputs);
    setBusy(el.signupForm, true);
    try {
      const result = await request('POST', '/signup', { json: { name, email, password } });
      el.signupForm.reset();
      // Straight on to the login form, e-mail filled in: one password away.
      el.loginEmail.value = result.user.email;
      el.loginPassword.value = '';
      el.loginError.textContent = '';
      say('Account created for ' + result.user.email + '. Log in with your password.');
      el.loginPassword.focus();
    } catch (err) {
      const field = err instanceof ApiError ? FIELD_INPUTS().signup[err.field] : null;
      showFormError(el.signupError, describeError(err, 'signup'), inputs,
                    field || (err.code === 'email_taken' ? el.signupEmail : null));
    } finally {
      setBusy(el.signupForm, false);
    }
  }

  async function onLogout() {
    const token = storedRefreshToken();
    el.logout.disabled = true;
    forgetSession();
    showSignedOut();
    try {
      // Revokes every refresh token of this login; no Bearer needed (an
      // expired one must not stand in the way). The access token stays
      // valid until it expires, but this page has just forgotten it.
      if (token) await request('POST', '/logout', { json: { refresh_token: token } });
      say('You are logged out.');
    } catch (err) {
      say('You are logged out here, but the server could not be told: ' + describeError(err, 'logout'));
    } finally {
      el.logout.disabled = false;
    }
  }

  // --- start ------------------------------------------------------------------------
  // With several APIs configured: a choice among them, never one more.
  function showChooser(bases) {
    for (const base of bases) {
      const option = document.createElement('option');
      option.value = base;
      option.textContent = base;
      option.selected = base === apiBase;
      el.apiChoice.append(option);
    }
    el.apiChoice.addEventListener('change', () => {
      if (!bases.includes(el.apiChoice.value)) return;
      if (!writeStorage(CHOICE_KEY, el.apiChoice.value)) {
        el.pageError.textContent = 'Cannot switch the API: this browser keeps no session storage for the page.';
        el.apiChoice.value = apiBase;
        return;
      }
      window.location.reload();
    });
    el.apiShown.hidden = true;
    el.apiChooser.hidden = false;
  }

  async function start() {
    writeStorage(UNBOUND_TOKEN_KEY, null);
    const configured = configuredApis();
    if (configured.error) {
      el.pageError.textContent = configured.error;
      el.apiBase.textContent = '(none)';
      return;
    }
    apiBase = chooseApi(configured.bases);
    el.apiBase.textContent = apiBase;
    if (configured.bases.length > 1) showChooser(configured.bases);
    if (new URLSearchParams(window.location.search).has('api')) {
      // Said, not silently dropped: whoever sent this link meant the page to
      // talk to another server.
      el.pageError.textContent = 'The link to this page names a server for it to use (?api=); that was ignored. ' +
                                 'This page talks only to ' + configured.bases.join(' or ') + '.';
    }

    el.loginForm.addEventListener('submit', onLogin);
    el.signupForm.addEventListener('submit', onSignup);
    el.uploadForm.addEventListener('submit', onUpload);
    el.uploadFile.addEventListener('change', () => {
      if (isBusy(el.uploadForm)) return;  // the bar belongs to the upload under way
      el.progressRow.hidden = true;
      setProgress(0);
      el.uploadStatus.textContent = '';
      showFormError(el.uploadError, '', [el.uploadFile]);
    });
    el.logout.addEventListener('click', onLogout);
    el.usersMore.addEventListener('click', () => {
      if (el.usersMore.getAttribute('aria-disabled') !== 'true') loadUsers(false);
    });
    el.usersReload.addEventListener('click', () => loadUsers(true));

    if (!storedRefreshToken()) {
      showSignedOut({ focus: false });
      return;
    }
    // A reload: the refresh token is all that is left of the session.
    say('Restoring your session…');
    try {
      await refreshSession();
      say('');
      showSignedIn({ focus: false });
    } catch (err) {
      if (err instanceof SessionEnded) {
        say('');
        return;  // already on the login form, with the reason
      }
      say('');
      showSignedOut({ focus: false, error: 'Could not restore your session: ' + describeError(err, 'session') });
    }
  }

  start();
})();
