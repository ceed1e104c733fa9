// Gatehouse's web page: sign up, log in, a forgotten password, the user list
// with avatars, a profile picture upload with progress, the account (e-mail
// verification, name, password, e-mail address, a download of the account's
// data, deleting it), the links of the account e-mails, a new verification
// link when login wants a confirmed address, log out. Plain JavaScript without a
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
    new_password: 'The new password must be 8 to 72 characters long (72 bytes at most).',
    current_password: 'Enter your current password.',
    new_email: 'Enter a valid e-mail address, like ada@example.com, other than the one the account has now.',
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
        if (context === 'password-change') return 'Your current password is not correct.';
        if (context === 'email-change' || context === 'delete-account') return 'The password is not correct.';
        return 'Wrong e-mail or password.';
      case 'email_not_verified':
        return 'Confirm your e-mail address first: open the link in the mail we sent you, then log in.';
      case 'already_verified':
        return 'Your e-mail address is already confirmed.';
      case 'invalid_or_expired_token':
        return 'This link can no longer be used: it was used already, it expired, or a newer link replaced it.';
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
        return context === 'email-change'
          ? 'Another account already uses this e-mail address.'
          : 'An account with this e-mail already exists. Log in instead.';
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
      case 'request_in_progress':
        return 'The server is still working on this. Try again in ' + formatDuration(err.retryAfter || 1) + '.';
      case 'idempotency_key_reused':
      case 'invalid_idempotency_key':
        return 'The page sent a malformed retry. Reload the page and try again.';
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

  // Every action that changes something carries an Idempotency-Key, fresh
  // per action and the same on each retry of it, so a retry after a lost
  // answer gets the first answer instead of doing the work again (a second
  // account, a "this e-mail is taken" for one's own sign-up).
  const STATE_CHANGING = new Set(['POST', 'PATCH', 'DELETE']);
  function newIdempotencyKey() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));  // outside a secure context
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // Answers after which the same request, with the same key, may simply be
  // sent again: the answer was lost, the store failed, or the first attempt
  // is still running. Two more tries, waiting as the server says (at most 3 s).
  const MAX_TRIES = 3;
  const worthRetrying = (err) => err.code === 'network' || err.code === 'storage_unavailable' ||
                                 err.code === 'server_busy' || err.code === 'request_in_progress';
  const pause = (err) => new Promise((resolve) => setTimeout(resolve, Math.min(err.retryAfter || 1, 3) * 1000));

  async function sendOnce(method, path, headers, body) {
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

  async function request(method, path, options) {
    const opts = options || {};
    const headers = { accept: 'application/json' };
    if (opts.token) headers.authorization = 'Bearer ' + opts.token;
    let body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    if (!STATE_CHANGING.has(method)) return sendOnce(method, path, headers, body);
    headers['idempotency-key'] = opts.idempotencyKey || newIdempotencyKey();
    for (let tries = 1; ; ++tries) {
      try {
        return await sendOnce(method, path, headers, body);
      } catch (err) {
        if (!(err instanceof ApiError) || !worthRetrying(err) || tries >= MAX_TRIES) throw err;
        await pause(err);
      }
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

  // A 401 about the access token. Not a wrong password typed into a form
  // (invalid_credentials, from /password/change or /email/change): that one
  // says nothing about the session.
  const tokenRefused = (err) => err instanceof ApiError && err.status === 401 && err.code !== 'invalid_credentials';

  // Runs `attempt(token)` with the access token; on a 401, one silent refresh
  // and one retry. A second 401 means the session is over.
  async function withSession(attempt) {
    if (!accessToken) await refreshSession();  // after a reload: only the refresh token is left
    const used = accessToken;
    try {
      return await attempt(used);
    } catch (err) {
      if (!tokenRefused(err)) throw err;
    }
    // Another call may have refreshed meanwhile: then just use its token.
    if (accessToken === used) await refreshSession();
    try {
      return await attempt(accessToken);
    } catch (err) {
      if (tokenRefused(err)) throw endSession(err);
      throw err;
    }
  }

  // One action: one key, whichever token its attempts carry.
  function authed(method, path, options) {
    const idempotencyKey = newIdempotencyKey();
    return withSession((token) => request(method, path, Object.assign({}, options, { token, idempotencyKey })));
  }

  // POST /upload_profile_pic with XMLHttpRequest, the one browser API that
  // reports upload progress. The file goes in the multipart part `image`.
  // `idempotencyKey`: the upload's own, the same on every attempt (the
  // server leaves the multipart boundary, fresh on each send, out of it).
  function uploadOnce(file, token, idempotencyKey, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', apiBase + '/upload_profile_pic');
      xhr.setRequestHeader('authorization', 'Bearer ' + token);
      xhr.setRequestHeader('idempotency-key', idempotencyKey);
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
    resendVerification: $('resend-verification'),
    resendStatus: $('resend-status'),
    resendButton: $('resend-button'),
    forgotOpen: $('forgot-open'),
    forgotForm: $('forgot-form'),
    forgotEmail: $('forgot-email'),
    forgotStatus: $('forgot-status'),
    forgotError: $('forgot-error'),
    forgotBack: $('forgot-back'),
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
    accountEmail: $('account-email'),
    accountEmailState: $('account-email-state'),
    verifyRequestForm: $('verify-request-form'),
    verifyRequestStatus: $('verify-request-status'),
    verifyRequestError: $('verify-request-error'),
    nameForm: $('name-form'),
    nameInput: $('name-input'),
    nameStatus: $('name-status'),
    nameError: $('name-error'),
    passwordForm: $('password-form'),
    currentPassword: $('current-password'),
    newPassword: $('new-password'),
    passwordStatus: $('password-status'),
    passwordError: $('password-error'),
    emailForm: $('email-form'),
    newEmail: $('new-email'),
    emailPassword: $('email-password'),
    emailStatus: $('email-status'),
    emailError: $('email-error'),
    exportForm: $('export-form'),
    exportStatus: $('export-status'),
    exportError: $('export-error'),
    deleteForm: $('delete-form'),
    deletePassword: $('delete-password'),
    deleteConfirm: $('delete-confirm'),
    deleteError: $('delete-error'),
    linkView: $('link-view'),
    linkTitle: $('link-title'),
    verifyForm: $('verify-form'),
    verifyError: $('verify-error'),
    resetForm: $('reset-form'),
    resetPassword: $('reset-password'),
    resetError: $('reset-error'),
    changeConfirmForm: $('change-confirm-form'),
    changeConfirmError: $('change-confirm-error'),
    linkOutcome: $('link-outcome'),
    linkOutcomeText: $('link-outcome-text'),
    linkNext: $('link-next'),
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

  // Options: focus (false: leave it where it is), error (said on the login
  // form), email (filled into the login form, focus then waits in the
  // password field), forgot (the forgotten-password form instead).
  function showSignedOut(options) {
    const opts = options || {};
    generation += 1;  // drop answers of requests made for the old session
    el.signedIn.hidden = true;
    el.sessionBar.hidden = true;
    el.linkView.hidden = true;
    el.signedOut.hidden = false;
    el.usersList.replaceChildren();
    el.loginPassword.value = '';
    hideResend();
    resetAccount();
    if (opts.error) el.loginError.textContent = opts.error;
    if (opts.email) el.loginEmail.value = opts.email;
    if (opts.forgot) {
      openForgot();
      return;
    }
    closeForgot();
    if (opts.email) el.loginPassword.focus();
    else if (opts.focus !== false) el.signedOutTitle.focus();
  }

  function showSignedIn(options) {
    const opts = options || {};
    el.signedOut.hidden = true;
    el.linkView.hidden = true;
    el.signedIn.hidden = false;
    el.sessionBar.hidden = false;
    el.loginError.textContent = '';
    el.signupError.textContent = '';
    closeForgot();
    resetAccount();
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
    // On a link's page the link goes first; leaving it finds no session.
    if (el.signedOut.hidden && el.linkView.hidden) {
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
    renderAccount();
  }

  // The e-mail address and whether it is confirmed (a server without
  // e-mail verification sends no email_verified: then nothing is said).
  function renderAccount() {
    el.accountEmail.textContent = currentUser.email;
    const known = typeof currentUser.email_verified === 'boolean';
    const verified = known && currentUser.email_verified;
    el.accountEmailState.hidden = !known;
    el.accountEmailState.textContent = verified ? 'verified' : 'not verified';
    el.accountEmailState.classList.toggle('badge-ok', verified);
    el.accountEmailState.classList.toggle('badge-warn', known && !verified);
    el.verifyRequestForm.hidden = !known || verified;
  }

  // The caller's own entry in the list, redrawn after a change to it.
  function redrawMyItem() {
    const item = el.usersList.querySelector('li[data-user-id="' + CSS.escape(currentUser.userId) + '"]');
    if (item) item.replaceWith(userItem(currentUser));
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
      const idempotencyKey = newIdempotencyKey();
      const result = await withSession((token) => {
        setProgress(0);
        return uploadOnce(file, token, idempotencyKey, (fraction) => {
          setProgress(fraction);
          if (fraction >= 1) el.uploadStatus.textContent = 'Uploaded; the server is checking the picture…';
        });
      });
      currentUser = result.user;
      renderMe();
      redrawMyItem();  // the same user in the list gets the new picture too
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

  // --- the account ----------------------------------------------------------------
  function resetAccount() {
    for (const form of [el.verifyRequestForm, el.nameForm, el.passwordForm, el.emailForm, el.exportForm, el.deleteForm]) {
      form.reset();
    }
    for (const status of [el.verifyRequestStatus, el.nameStatus, el.passwordStatus, el.emailStatus, el.exportStatus]) {
      status.textContent = '';
    }
    showFormError(el.verifyRequestError, '', []);
    showFormError(el.nameError, '', [el.nameInput]);
    showFormError(el.passwordError, '', [el.currentPassword, el.newPassword]);
    showFormError(el.emailError, '', [el.newEmail, el.emailPassword]);
    showFormError(el.exportError, '', []);
    showFormError(el.deleteError, '', [el.deletePassword, el.deleteConfirm]);
    el.nameInput.value = currentUser ? currentUser.name : '';
  }

  async function onVerifyRequest(event) {
    event.preventDefault();
    if (isBusy(el.verifyRequestForm)) return;
    el.verifyRequestStatus.textContent = '';
    showFormError(el.verifyRequestError, '', []);
    setBusy(el.verifyRequestForm, true);
    try {
      await authed('POST', '/email/verify/request');
      el.verifyRequestStatus.textContent = 'We sent a link to ' + currentUser.email +
                                           '. Open it to confirm your address; it works for 24 hours.';
    } catch (err) {
      if (err instanceof SessionEnded) return;
      if (err instanceof ApiError && err.code === 'already_verified') {
        // Confirmed meanwhile (in another tab, say): show it as it is.
        el.verifyRequestStatus.textContent = describeError(err, 'verify');
        try {
          currentUser = (await authed('GET', '/users/me')).user;
          renderMe();
        } catch (_) {
          // the badge stays as it was; the sentence above says how it is
        }
        return;
      }
      showFormError(el.verifyRequestError, describeError(err, 'verify'), []);
    } finally {
      setBusy(el.verifyRequestForm, false);
    }
  }

  async function onRename(event) {
    event.preventDefault();
    if (isBusy(el.nameForm)) return;
    const inputs = [el.nameInput];
    const name = el.nameInput.value.trim();
    el.nameStatus.textContent = '';
    if (!name) return showFormError(el.nameError, 'Enter your name.', inputs, el.nameInput);
    showFormError(el.nameError, '', inputs);
    setBusy(el.nameForm, true);
    try {
      currentUser = (await authed('PATCH', '/users/me', { json: { name } })).user;
      renderMe();
      redrawMyItem();
      el.nameInput.value = currentUser.name;
      el.nameStatus.textContent = 'Your name is saved.';
    } catch (err) {
      if (err instanceof SessionEnded) return;
      showFormError(el.nameError, describeError(err, 'rename'), inputs, el.nameInput);
    } finally {
      setBusy(el.nameForm, false);
    }
  }

  // A new session comes back (like a login); the server has signed out
  // every other one.
  async function onPasswordChange(event) {
    event.preventDefault();
    if (isBusy(el.passwordForm)) return;
    const inputs = [el.currentPassword, el.newPassword];
    const current = el.currentPassword.value;
    const next = el.newPassword.value;
    el.passwordStatus.textContent = '';
    if (!current) return showFormError(el.passwordError, 'Enter your current password.', inputs, el.currentPassword);
    if (next.length < 8) {
      return showFormError(el.passwordError, 'Choose a new password of at least 8 characters.', inputs, el.newPassword);
    }
    showFormError(el.passwordError, '', inputs);
    setBusy(el.passwordForm, true);
    try {
      adoptSession(await authed('POST', '/password/change', { json: { current_password: current, new_password: next } }));
      renderMe();
      el.passwordForm.reset();
      el.passwordStatus.textContent = 'Your password is changed. Every other session was signed out; this one goes on.';
    } catch (err) {
      if (err instanceof SessionEnded) return;
      const field = err instanceof ApiError ? FIELD_INPUTS().password[err.field] : null;
      showFormError(el.passwordError, describeError(err, 'password-change'), inputs,
                    field || (err.code === 'invalid_credentials' ? el.currentPassword : null));
    } finally {
      setBusy(el.passwordForm, false);
    }
  }

  // Nothing changes yet: the new address gets a link, and opening it moves
  // the account there (#/confirm-email-change below).
  async function onEmailChange(event) {
    event.preventDefault();
    if (isBusy(el.emailForm)) return;
    const inputs = [el.newEmail, el.emailPassword];
    const newEmail = el.newEmail.value.trim();
    const password = el.emailPassword.value;
    el.emailStatus.textContent = '';
    if (!newEmail) return showFormError(el.emailError, 'Enter the new e-mail address.', inputs, el.newEmail);
    if (!password) return showFormError(el.emailError, 'Enter your password.', inputs, el.emailPassword);
    showFormError(el.emailError, '', inputs);
    setBusy(el.emailForm, true);
    try {
      await authed('POST', '/email/change', { json: { new_email: newEmail, password } });
      el.emailForm.reset();
      el.emailStatus.textContent = 'Check your new inbox: we sent a link to ' + newEmail +
                                   '. The account moves there when you open it (within an hour); until then it stays ' +
                                   currentUser.email + '.';
    } catch (err) {
      if (err instanceof SessionEnded) return;
      const field = err instanceof ApiError ? FIELD_INPUTS().email[err.field] : null;
      showFormError(el.emailError, describeError(err, 'email-change'), inputs,
                    field || (err.code === 'invalid_credentials' ? el.emailPassword
                              : err.code === 'email_taken' ? el.newEmail : null));
    } finally {
      setBusy(el.emailForm, false);
    }
  }

  // Everything the server stores about the user, saved as a file. The export
  // is fetched like any call, the access token in its header; the file is
  // then made here (a Blob and an <a download>), so no address ever holds the
  // token, and the copy never leaves this tab's memory but to the disk.
  async function onExport(event) {
    event.preventDefault();
    if (isBusy(el.exportForm)) return;
    el.exportStatus.textContent = '';
    showFormError(el.exportError, '', []);
    setBusy(el.exportForm, true);
    try {
      const data = await authed('GET', '/users/me/export');
      const blob = new Blob([JSON.stringify(data, null, 2) + '\n'], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = 'gatehouse-export.json';
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      // Once the browser has taken the file: a URL revoked at once may be
      // gone before a slower browser reads it.
      window.setTimeout(() => URL.revokeObjectURL(url), 60000);
      el.exportStatus.textContent = 'Your data is saved as gatehouse-export.json (in your downloads).';
    } catch (err) {
      if (err instanceof SessionEnded) return;
      showFormError(el.exportError, describeError(err, 'export'), []);
    } finally {
      setBusy(el.exportForm, false);
    }
  }

  // The password (checked like a login) and the box ticked, then the
  // account is gone: the server has ended every session, so the page forgets
  // its own and shows the signed-out view.
  async function onDeleteAccount(event) {
    event.preventDefault();
    if (isBusy(el.deleteForm)) return;
    const inputs = [el.deletePassword, el.deleteConfirm];
    const password = el.deletePassword.value;
    if (!password) return showFormError(el.deleteError, 'Enter your password.', inputs, el.deletePassword);
    if (!el.deleteConfirm.checked) {
      return showFormError(el.deleteError, 'Tick "I understand this cannot be undone" to delete the account.',
                           inputs, el.deleteConfirm);
    }
    showFormError(el.deleteError, '', inputs);
    setBusy(el.deleteForm, true);
    try {
      const email = currentUser.email;
      await authed('DELETE', '/users/me', { json: { password } });
      forgetSession();
      el.loginEmail.value = '';
      showSignedOut();
      say('Your account ' + email + ' is deleted, with its picture and every session. You are signed out.');
    } catch (err) {
      if (err instanceof SessionEnded) return;
      const field = err instanceof ApiError ? FIELD_INPUTS().delete[err.field] : null;
      showFormError(el.deleteError, describeError(err, 'delete-account'), inputs,
                    field || (err.code === 'invalid_credentials' ? el.deletePassword : null));
    } finally {
      setBusy(el.deleteForm, false);
    }
  }

  // --- forms ----------------------------------------------------------------------
  const FIELD_INPUTS = () => ({
    login: { email: el.loginEmail, password: el.loginPassword },
    signup: { name: el.signupName, email: el.signupEmail, password: el.signupPassword },
    forgot: { email: el.forgotEmail },
    password: { current_password: el.currentPassword, new_password: el.newPassword },
    email: { new_email: el.newEmail, password: el.emailPassword },
    reset: { password: el.resetPassword },
    delete: { password: el.deletePassword },
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
    hideResend();
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
      if (err instanceof ApiError && err.code === 'email_not_verified') offerResend(email);
    } finally {
      setBusy(el.loginForm, false);
    }
  }

  // --- a new verification link, signed out ---------------------------------------
  // With EMAIL_VERIFICATION=required, login refuses an unconfirmed address
  // (403 email_not_verified): the page offers a new link for the address
  // typed. The request carries no session, and the server answers the same
  // whether or not such an account exists, so the page says the same too.
  let resendEmail = null;  // the address that login refused, while the offer stands

  function offerResend(email) {
    resendEmail = email;
    el.resendStatus.textContent = '';
    el.resendVerification.hidden = false;
  }

  function hideResend() {
    resendEmail = null;
    el.resendStatus.textContent = '';
    el.resendVerification.hidden = true;
  }

  async function onResendVerification() {
    if (!resendEmail || el.resendButton.getAttribute('aria-disabled') === 'true') return;
    const email = resendEmail;
    el.resendStatus.textContent = '';
    el.resendButton.setAttribute('aria-disabled', 'true');
    try {
      await request('POST', '/email/verify/request', { json: { email } });
      if (resendEmail !== email) return;
      el.resendStatus.textContent = 'If the account ' + email + ' exists and is not confirmed yet, we sent it a new link. ' +
                                    'Open it, then log in; it works for 24 hours.';
    } catch (err) {
      if (resendEmail !== email) return;
      showFormError(el.loginError, describeError(err, 'resend'), [el.loginEmail, el.loginPassword]);
    } finally {
      el.resendButton.removeAttribute('aria-disabled');
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

  // --- a forgotten password ---------------------------------------------------------
  // In the login form's place. The answer is the same whether or not an
  // account has the address, and so is what the page says.
  function openForgot() {
    el.loginForm.hidden = true;
    el.forgotForm.hidden = false;
    el.forgotStatus.textContent = '';
    showFormError(el.forgotError, '', [el.forgotEmail]);
    if (!el.forgotEmail.value) el.forgotEmail.value = el.loginEmail.value.trim();
    el.forgotEmail.focus();
  }

  function closeForgot() {
    el.forgotForm.hidden = true;
    el.loginForm.hidden = false;
  }

  async function onForgot(event) {
    event.preventDefault();
    if (isBusy(el.forgotForm)) return;
    const inputs = [el.forgotEmail];
    const email = el.forgotEmail.value.trim();
    el.forgotStatus.textContent = '';
    if (!email) return showFormError(el.forgotError, 'Enter your e-mail address.', inputs, el.forgotEmail);
    showFormError(el.forgotError, '', inputs);
    setBusy(el.forgotForm, true);
    try {
      await request('POST', '/password/forgot', { json: { email } });
      el.forgotStatus.textContent = 'If an account exists for ' + email + ', we sent it a link to choose a new password. ' +
                                    'Check your inbox: the link works once, for one hour.';
    } catch (err) {
      const field = err instanceof ApiError ? FIELD_INPUTS().forgot[err.field] : null;
      showFormError(el.forgotError, describeError(err, 'forgot'), inputs, field);
    } finally {
      setBusy(el.forgotForm, false);
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

  // --- links from the account e-mails ------------------------------------------------
  // A mail's link opens this page at #/<action>?token=T. Mail scanners fetch
  // links, so opening one spends nothing: the page says what the link does
  // and waits for a click. Once the server has answered about a token (used,
  // or refused), it is taken out of the address, so that neither the history
  // nor a reload holds it. The fragment never reaches a server.
  const LINKS = {
    'verify-email': {
      title: 'Confirm your e-mail address',
      form: () => el.verifyForm,
      error: () => el.verifyError,
      inputs: () => [],
      lifetime: '24 hours',
    },
    'reset-password': {
      title: 'Choose a new password',
      form: () => el.resetForm,
      error: () => el.resetError,
      inputs: () => [el.resetPassword],
      lifetime: 'one hour',
    },
    'confirm-email-change': {
      title: 'Confirm your new e-mail address',
      form: () => el.changeConfirmForm,
      error: () => el.changeConfirmError,
      inputs: () => [],
      lifetime: 'one hour',
    },
  };
  let link = null;  // {action, token} of the link on screen
  let linkNext = null;  // what its outcome's button does

  function linkInAddress() {
    const m = /^#\/([a-z-]+)(?:\?(.*))?$/.exec(window.location.hash);
    if (!m || !Object.prototype.hasOwnProperty.call(LINKS, m[1])) return null;
    return { action: m[1], token: new URLSearchParams(m[2] || '').get('token') || '' };
  }

  function clearLinkFromAddress() {
    if (window.location.hash) {
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    }
  }

  function showLink(found) {
    link = found;
    generation += 1;  // a list still loading for the page left behind is dropped
    const spec = LINKS[found.action];
    el.signedOut.hidden = true;
    el.signedIn.hidden = true;
    el.sessionBar.hidden = true;
    el.linkView.hidden = false;
    for (const key of Object.keys(LINKS)) LINKS[key].form().hidden = true;
    el.linkOutcome.hidden = true;
    spec.form().reset();
    showFormError(spec.error(), '', spec.inputs());
    say('');
    el.linkTitle.textContent = spec.title;
    if (!found.token) {
      clearLinkFromAddress();
      linkFailed(found.action, 'This link is incomplete: it has no token. Copy the whole link from the mail, or ask for a new one.');
      return;
    }
    spec.form().hidden = false;
    el.linkTitle.focus();
  }

  function showLinkOutcome(ok, title, message, next) {
    for (const key of Object.keys(LINKS)) LINKS[key].form().hidden = true;
    el.linkTitle.textContent = title;
    el.linkOutcomeText.textContent = message;
    el.linkOutcome.classList.toggle('outcome-failed', !ok);
    el.linkNext.textContent = next.label;
    linkNext = next.go;
    el.linkOutcome.hidden = false;
    el.linkTitle.focus();
  }

  // The token was refused: said, with the way to a new link.
  function linkFailed(action, reason) {
    const signedIn = Boolean(storedRefreshToken());
    const lifetime = LINKS[action].lifetime;
    if (action === 'reset-password') {
      showLinkOutcome(false, 'This link cannot be used', reason + ' Reset links work once, for ' + lifetime + '.',
                      signedIn ? { label: 'Continue to your account', go: () => leaveLink() }
                               : { label: 'Ask for a new link', go: () => leaveLink({ forgot: true }) });
    } else if (action === 'verify-email') {
      showLinkOutcome(false, 'This link cannot be used', reason + ' Links work for ' + lifetime +
                      '. Log in and send a new verification e-mail from your account.',
                      { label: signedIn ? 'Continue to your account' : 'Log in', go: () => leaveLink() });
    } else {
      showLinkOutcome(false, 'This link cannot be used', reason + ' Links work once, for ' + lifetime +
                      '. Log in and ask for the change again from your account.',
                      { label: signedIn ? 'Continue to your account' : 'Log in', go: () => leaveLink() });
    }
  }

  // Back to the page itself: signed in again if this tab has a session (its
  // user fetched anew: the link may have changed it), else the login form.
  function leaveLink(options) {
    clearLinkFromAddress();
    link = null;
    linkNext = null;
    el.linkView.hidden = true;
    return resume(Object.assign({ focus: true }, options));
  }

  // Spends the link's token with POST `path` and `extra` in the body; the
  // answer is the user as the link left it.
  async function spendLink(event, path, extra, done) {
    event.preventDefault();
    const current = link;
    if (!current) return;
    const spec = LINKS[current.action];
    const form = spec.form();
    if (isBusy(form)) return;
    showFormError(spec.error(), '', spec.inputs());
    setBusy(form, true);
    try {
      const result = await request('POST', path, { json: Object.assign({ token: current.token }, extra) });
      if (link !== current) return;
      clearLinkFromAddress();
      done(result.user);
    } catch (err) {
      if (link !== current) return;
      if (err instanceof ApiError && (err.code === 'invalid_or_expired_token' || err.code === 'email_taken')) {
        clearLinkFromAddress();
        linkFailed(current.action, describeError(err, 'email-change'));
        return;
      }
      // Anything else (the network, a busy server, a refused password)
      // leaves the token unspent: the form stays, for another try.
      const field = err instanceof ApiError && current.action === 'reset-password' ? FIELD_INPUTS().reset[err.field] : null;
      showFormError(spec.error(), describeError(err, 'link'), spec.inputs(), field);
    } finally {
      setBusy(form, false);
    }
  }

  function onVerifyLink(event) {
    spendLink(event, '/email/verify/confirm', {}, (user) => {
      showLinkOutcome(true, 'Your address is confirmed', 'Thank you: ' + user.email + ' is confirmed as your address.',
                      { label: storedRefreshToken() ? 'Continue to your account' : 'Continue to Gatehouse', go: () => leaveLink() });
    });
  }

  function onResetLink(event) {
    const password = el.resetPassword.value;
    if (password.length < 8) {
      event.preventDefault();
      showFormError(el.resetError, 'Choose a password of at least 8 characters.', [el.resetPassword], el.resetPassword);
      return;
    }
    spendLink(event, '/password/reset', { password }, (user) => {
      // The server has ended every session of the account, this tab's too.
      forgetSession();
      el.resetForm.reset();
      showLinkOutcome(true, 'Your password is changed',
                      'Every session of ' + user.email + ' was signed out. Log in with your new password.',
                      { label: 'Log in', go: () => leaveLink({ email: user.email }) });
    });
  }

  function onChangeConfirmLink(event) {
    spendLink(event, '/email/change/confirm', {}, (user) => {
      showLinkOutcome(true, 'Your new address is in use',
                      'Your account now uses ' + user.email + '. Log in with it from now on.',
                      { label: storedRefreshToken() ? 'Continue to your account' : 'Log in',
                        go: () => leaveLink({ email: storedRefreshToken() ? undefined : user.email }) });
    });
  }

  function onAddressChange() {
    const found = linkInAddress();
    if (found) showLink(found);
    else if (link) leaveLink();
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
    el.forgotForm.addEventListener('submit', onForgot);
    el.forgotOpen.addEventListener('click', openForgot);
    el.forgotBack.addEventListener('click', () => {
      closeForgot();
      el.loginEmail.focus();
    });
    el.verifyRequestForm.addEventListener('submit', onVerifyRequest);
    el.nameForm.addEventListener('submit', onRename);
    el.passwordForm.addEventListener('submit', onPasswordChange);
    el.emailForm.addEventListener('submit', onEmailChange);
    el.exportForm.addEventListener('submit', onExport);
    el.deleteForm.addEventListener('submit', onDeleteAccount);
    el.resendButton.addEventListener('click', onResendVerification);
    // The offer is for the address that login refused: another one typed
    // takes it back.
    el.loginEmail.addEventListener('input', () => {
      if (resendEmail !== null && el.loginEmail.value.trim() !== resendEmail) hideResend();
    });
    el.verifyForm.addEventListener('submit', onVerifyLink);
    el.resetForm.addEventListener('submit', onResetLink);
    el.changeConfirmForm.addEventListener('submit', onChangeConfirmLink);
    el.linkNext.addEventListener('click', () => {
      if (linkNext) linkNext();
    });
    window.addEventListener('hashchange', onAddressChange);
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

    // Opened from a mail's link: that first, the session (if any) after.
    const found = linkInAddress();
    if (found) {
      showLink(found);
      return;
    }
    await resume({ focus: false });
  }

  // Signed in if this tab holds a refresh token (a reload, or back from a
  // link's page), else the login form. `options` as showSignedOut's.
  async function resume(options) {
    if (!storedRefreshToken()) {
      showSignedOut(options);
      return;
    }
    // The refresh token is all that is left of the session.
    say('Restoring your session…');
    try {
      await refreshSession();
      say('');
      showSignedIn({ focus: options.focus });
    } catch (err) {
      if (err instanceof SessionEnded) {
        say('');
        return;  // already on the login form, with the reason
      }
      say('');
      showSignedOut(Object.assign({}, options, { error: 'Could not restore your session: ' + describeError(err, 'session') }));
    }
  }

  start();
})();
