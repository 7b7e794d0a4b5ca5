// The sandbox chat page: one Telegram user per browser tab. The chat is drawn only from the
// engine's web event stream and the chat's history (the user's own messages included), so a
// reload or a reconnect shows exactly what happened; the side panel reads and changes the user's
// account.
'use strict';

(() => {
  const MAX_UPLOAD = 5 * 1024 * 1024;
  const TYPING_MS = 5000;
  const ACCOUNT_EVERY_MS = 4000;
  const STATES = { idle: 'idle', waiting_for_file: 'waiting for a file', processing: 'job running' };

  const $ = (id) => document.getElementById(id);
  const messages = $('messages');
  const userId = chooseUser();
  const base = `/sandbox/api/users/${userId}/`;
  let typingTimer = null;
  let accountTimer = null;
  let problemTimer = null;
  let blocked = false;

  /** The tab's user: ?user=<id> if given, else the one this tab had, else a new random one. */
  function chooseUser() {
    const params = new URLSearchParams(location.search);
    let id = params.get('user');
    if (!id || !/^[1-9][0-9]{0,14}$/.test(id)) {
      id = params.has('new') ? null : sessionStorage.getItem('sandbox.user');
    }
    if (!id) {
      id = String(100000000 + Math.floor(Math.random() * 900000000));
    }
    sessionStorage.setItem('sandbox.user', id);
    if (params.has('new')) {
      history.replaceState(null, '', '/');
    }
    return id;
  }

  // ------------------------------------------------------------------ server calls

  async function call(method, path, body) {
    // The server refuses state-changing calls without this header: other web pages cannot add it.
    const options = { method, headers: { 'X-Sandbox-Page': '1' } };
    if (body instanceof Blob) {
      options.body = body;
      options.headers['Content-Type'] = body.type || 'application/octet-stream';
    } else if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(base + path, options);
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      throw new Error(data && data.error ? data.error : `${response.status} ${response.statusText}`);
    }
    return data;
  }

  function problem(message) {
    const box = $('problem');
    box.textContent = message;
    box.hidden = false;
    clearTimeout(problemTimer);
    problemTimer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function freshKey() {
    if (window.crypto && crypto.randomUUID) {
      return `sandbox-${crypto.randomUUID()}`;
    }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return `sandbox-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }

  // ------------------------------------------------------------------ chat

  function clock(at) {
    return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function size(bytes) {
    if (bytes < 1024) {
      return `${bytes} B`;
    }
    return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
  }

  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function meta(entry, mine) {
    const m = element('span', 'meta');
    m.appendChild(element('span', 'edited', 'edited'));
    m.appendChild(element('time', null, clock(entry.at)));
    if (mine) {
      m.appendChild(element('span', 'ticks', '✓✓'));
    }
    return m;
  }

  function fileCard(entry, href) {
    const card = element(href ? 'a' : 'div', 'file');
    if (href) {
      card.href = href;
      card.download = entry.fileName;
      card.title = `Download ${entry.fileName}`;
    }
    const dot = entry.fileName.lastIndexOf('.');
    const ext = dot > 0 ? entry.fileName.slice(dot + 1, dot + 5).toUpperCase() : 'FILE';
    card.appendChild(element('span', 'file-icon', ext));
    const info = element('span', 'file-info');
    info.appendChild(element('span', 'file-name', entry.fileName));
    info.appendChild(element('span', 'file-size', href ? `${size(entry.size)} · Download` : size(entry.size)));
    card.appendChild(info);
    return card;
  }

  function row(entry, side, extraClass) {
    const r = element('div', `msg ${side}${extraClass ? ` ${extraClass}` : ''}`);
    r.dataset.seq = entry.seq;
    if (entry.messageId && entry.kind !== 'draft') {
      r.dataset.mid = entry.messageId;
    }
    const bubble = element('div', 'bubble');
    r.appendChild(bubble);
    return [r, bubble];
  }

  /** An http(s) link a button may open, or null. */
  function safeUrl(href) {
    try {
      const url = new URL(href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ payments in Telegram Stars

  async function pay(button, offer) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = 'Paying…';
    try {
      const result = await call('POST', 'pay', { payload: offer.payload });
      if (result.ok) {
        button.textContent = offer.subscription ? 'Subscribed ✓' : 'Paid ✓';
        button.classList.add('paid');
        scheduleAccount(300);
        return;
      }
      problem(result.answered
        ? `Payment refused by the bot: ${result.error_message}`
        : 'The bot did not answer the pre-checkout query within 10 s; nothing was paid.');
    } catch (e) {
      problem(`Could not pay: ${e.message}`);
    }
    button.textContent = label;
    button.disabled = false;
  }

  function payButton(offer, botText) {
    const label = `${offer.subscription ? 'Subscribe' : 'Pay'} ${offer.stars} ⭐`;
    const b = element('button', 'pay', label);
    b.type = 'button';
    b.dataset.payload = offer.payload;
    b.dataset.stars = offer.stars;
    if (botText) {
      b.title = botText;
    }
    b.addEventListener('click', () => pay(b, offer));
    return b;
  }

  /** One inline button: pays the offer, opens a safe link, or (a callback) is shown disabled. */
  function inlineButton(button, offer) {
    if (button.pay && offer) {
      return payButton(offer, button.text);
    }
    const url = button.url ? safeUrl(button.url) : null;
    if (url) {
      const a = element('a', 'inline-button', button.text);
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
      return a;
    }
    const b = element('button', 'inline-button', button.text);
    b.type = 'button';
    b.disabled = true;
    b.title = 'Only links and payments are emulated';
    return b;
  }

  function keyboard(entry) {
    const k = element('div', 'keyboard');
    entry.buttons.forEach((row) => {
      const line = element('div', 'keyboard-row');
      row.forEach((button) => line.appendChild(inlineButton(button, entry.offer)));
      k.appendChild(line);
    });
    return k;
  }

  function invoiceCard(offer) {
    const card = element('div', 'invoice-card');
    card.appendChild(element('div', 'invoice-title', offer.title));
    card.appendChild(element('div', 'invoice-description', offer.description));
    card.appendChild(element('div', 'invoice-price', `${offer.stars} ⭐`));
    card.appendChild(payButton(offer, null));
    return card;
  }

  function paymentText(entry) {
    if (entry.renewal) {
      return `Subscription «${entry.title}» renewed: ${entry.stars} ⭐`;
    }
    const until = entry.until ? `, until ${new Date(entry.until).toLocaleDateString()}` : '';
    return `You paid ${entry.stars} ⭐ for «${entry.title}»${until}`;
  }

  function textBlock(value, parseMode, className) {
    const block = element('div', className || 'text');
    block.appendChild(window.SandboxMarkup.render(value, parseMode));
    return block;
  }

  function append(r) {
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
    const last = messages.lastElementChild;
    const side = ['user', 'service'].find((s) => r.classList.contains(s)) || 'bot';
    if (last && last.classList.contains('msg') && last.classList.contains(side)) {
      last.classList.remove('tail');
      r.classList.add('follows');
    }
    r.classList.add('tail');
    messages.appendChild(r);
    $('empty').hidden = true;
    if (atBottom || side === 'user') {
      messages.scrollTop = messages.scrollHeight;
    }
  }

  function byMessageId(id) {
    return messages.querySelector(`.msg.bot[data-mid="${Number(id)}"]`);
  }

  // A message draft (sendMessageDraft): one growing bubble, which the bot's next message replaces.
  function endDraft() {
    messages.querySelectorAll('.msg.bot.draft').forEach((d) => d.remove());
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    $('status').textContent = 'bot';
    $('status').classList.remove('typing');
  }

  function show(entry) {
    switch (entry.kind) {
      case 'user_text': {
        const [r, bubble] = row(entry, 'user');
        bubble.appendChild(textBlock(entry.text, null));
        bubble.appendChild(meta(entry, true));
        append(r);
        break;
      }
      case 'user_document': {
        const [r, bubble] = row(entry, 'user', 'document');
        bubble.appendChild(fileCard(entry, null));
        bubble.appendChild(meta(entry, true));
        append(r);
        break;
      }
      case 'draft': {
        stopTyping();
        const shown = messages.querySelector('.msg.bot.draft');
        if (shown && shown.dataset.draft === String(entry.messageId)) {
          shown.querySelector('.text').replaceWith(textBlock(entry.text, entry.parseMode));
          break;
        }
        endDraft();
        const [r, bubble] = row(entry, 'bot', 'draft');
        r.dataset.draft = entry.messageId;
        bubble.appendChild(textBlock(entry.text, entry.parseMode));
        bubble.appendChild(element('span', 'meta', 'writing…'));
        append(r);
        break;
      }
      case 'message': {
        stopTyping();
        endDraft();
        const [r, bubble] = row(entry, 'bot');
        bubble.appendChild(textBlock(entry.text, entry.parseMode));
        bubble.appendChild(meta(entry, false));
        if (entry.buttons) {
          bubble.appendChild(keyboard(entry));
        }
        append(r);
        break;
      }
      case 'invoice': {
        stopTyping();
        const [r, bubble] = row(entry, 'bot', 'invoice');
        bubble.appendChild(invoiceCard(entry.offer));
        bubble.appendChild(meta(entry, false));
        append(r);
        break;
      }
      case 'payment': {
        const r = element('div', 'msg service');
        r.dataset.seq = entry.seq;
        r.appendChild(element('span', 'service-text', paymentText(entry)));
        append(r);
        break;
      }
      case 'document': {
        stopTyping();
        endDraft();
        const [r, bubble] = row(entry, 'bot', 'document');
        bubble.appendChild(fileCard(entry, `${base}files/${entry.messageId}`));
        if (entry.caption) {
          bubble.appendChild(textBlock(entry.caption, entry.parseMode, 'text caption'));
        }
        bubble.appendChild(meta(entry, false));
        append(r);
        break;
      }
      case 'edit': {
        const r = byMessageId(entry.messageId);
        if (r) {
          r.querySelector('.text').replaceWith(textBlock(entry.text, entry.parseMode));
          r.classList.add('was-edited');
          const old = r.querySelector('.keyboard');
          if (old) {
            old.remove();
          }
          if (entry.buttons) {
            r.querySelector('.bubble').appendChild(keyboard(entry));
          }
        }
        break;
      }
      case 'delete': {
        const r = byMessageId(entry.messageId);
        if (r) {
          const next = r.nextElementSibling;
          if (r.classList.contains('tail') && next === null) {
            const before = r.previousElementSibling;
            if (before && before.classList.contains('bot')) {
              before.classList.add('tail');
            }
          }
          r.remove();
        }
        break;
      }
      case 'action': {
        if (Date.now() - entry.at > TYPING_MS) {
          break;
        }
        const status = $('status');
        status.textContent = entry.action === 'typing' ? 'typing…' : `${entry.action.replace(/_/g, ' ')}…`;
        status.classList.add('typing');
        clearTimeout(typingTimer);
        typingTimer = setTimeout(stopTyping, TYPING_MS);
        break;
      }
      default:
        break;
    }
  }

  function clearChat() {
    messages.querySelectorAll('.msg').forEach((m) => m.remove());
    $('empty').hidden = false;
  }

  // The chat follows the engine's public web event API, GET /webapp/api/events, as a Mini App
  // would: authenticated with initData (the sandbox signs it with its bot's token), resumed with
  // Last-Event-ID. The sandbox adds what Telegram's own client would show (every bot call, the
  // user's messages and payments) to that stream as `chat` events; the history kept before the
  // page connected is loaded once the stream is live (ack), so nothing falls between the two.
  const WEB_EVENTS = '/webapp/api/events';
  let lastEventId = null;
  let lastSeq = 0;
  let epoch = null;

  function showEntry(entry) {
    if (entry.seq <= lastSeq) {
      return;
    }
    lastSeq = entry.seq;
    show(entry);
    scheduleAccount(150);
  }

  /** After the first ack or a reset: what the chat holds beyond what is shown. */
  async function catchUp() {
    let history = await call('GET', `history?after=${lastSeq}`);
    if (history.epoch !== epoch) {
      if (lastSeq > 0) {
        history = await call('GET', 'history?after=0');
      }
      clearChat();
      lastSeq = 0;
      epoch = history.epoch;
    }
    history.entries.forEach(showEntry);
  }

  function connectionState(live) {
    const connection = $('connection');
    connection.textContent = live ? 'live' : 'reconnecting…';
    connection.title = live
      ? 'Following the chat live'
      : 'The connection to the sandbox dropped; reconnecting';
    connection.className = live ? 'connection live' : 'connection down';
  }

  async function follow() {
    const { initData } = await call('GET', 'init-data');
    const headers = { Authorization: `tma ${initData}`, Accept: 'text/event-stream' };
    if (lastEventId) {
      headers['Last-Event-ID'] = lastEventId;
    }
    const response = await fetch(WEB_EVENTS, { headers, cache: 'no-store' });
    if (!response.ok) {
      throw new Error(`${response.status}`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    // Reading waits while the history loads: live entries stay in the stream meanwhile, and
    // those the history already had are skipped by their sequence number.
    const handle = async (type, data) => {
      if (type === 'ack') {
        connectionState(true);
        if (!lastEventId) {
          await catchUp();
        }
      } else if (type === 'reset') {
        await catchUp();
      } else if (type === 'chat') {
        showEntry(JSON.parse(data));
      } else if (type === 'end') {
        scheduleAccount(150);
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let type = 'message';
        let data = '';
        let id = null;
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) {
            type = line.slice(7);
          } else if (line.startsWith('id: ')) {
            id = line.slice(4);
          } else if (line.startsWith('data: ')) {
            data += line.slice(6);
          }
        }
        if (data) {
          await handle(type, data);
          if (id) {
            lastEventId = id;
          }
        }
      }
    }
  }

  async function connect() {
    for (;;) {
      try {
        await follow();
      } catch (e) {
        // dropped or refused: try again shortly
      }
      connectionState(false);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function send(text) {
    try {
      await call('POST', 'messages', { text, lang: $('lang').value });
      return true;
    } catch (e) {
      problem(`Could not send: ${e.message}`);
      return false;
    }
  }

  async function upload(file) {
    if (file.size > MAX_UPLOAD) {
      problem(`${file.name} is larger than the sandbox accepts (5 MB); the bot itself refuses files over 1 MB.`);
      return;
    }
    try {
      await fetch(`${base}documents?name=${encodeURIComponent(file.name)}`, {
        method: 'POST',
        headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-Sandbox-Page': '1' },
        body: file,
      }).then(async (response) => {
        if (!response.ok) {
          const data = await response.json().catch(() => null);
          throw new Error(data && data.error ? data.error : `${response.status} ${response.statusText}`);
        }
      });
    } catch (e) {
      problem(`Could not send ${file.name}: ${e.message}`);
    }
  }

  // ------------------------------------------------------------------ account

  function showPayments(list) {
    const payments = $('payments');
    payments.replaceChildren();
    $('payments-title').hidden = list.length === 0;
    list.slice(-5).reverse().forEach((p) => {
      const li = element('li', p.refunded_at ? 'refunded' : 'paid');
      li.title = p.charge_id || '';
      li.appendChild(element('span', 'amount', `${p.stars} ⭐`));
      const what = [String(p.kind || 'payment').toLowerCase()];
      if (Number.isFinite(p.tokens)) {
        what.push(`+${p.tokens} tokens`);
      }
      if (p.subscription_until) {
        what.push(`until ${new Date(p.subscription_until).toLocaleDateString()}`);
      }
      if (p.renewal_cancelled) {
        what.push('renewal cancelled');
      }
      if (p.refunded_at) {
        what.push(Number.isFinite(p.tokens_taken_back)
          ? `refunded, −${p.tokens_taken_back} tokens` : 'refunded');
      }
      li.appendChild(element('span', 'reason', what.join(' · ')));
      li.appendChild(element('time', null, clock(p.at)));
      payments.appendChild(li);
    });
  }

  function showAccount(a) {
    $('balance').textContent = a.balance;
    $('reserved').textContent = a.reserved;
    $('subscription').textContent = a.subscription_until
      ? `until ${new Date(a.subscription_until).toLocaleDateString()}` : 'none';
    blocked = a.blocked;
    $('blocked').textContent = a.blocked ? 'yes' : 'no';
    $('blocked').classList.toggle('bad', a.blocked);
    $('block').textContent = a.blocked ? 'Unblock' : 'Block';
    $('state').textContent = STATES[a.state] || a.state;
    $('cost').textContent = `${a.cv_cost} token${a.cv_cost === 1 ? '' : 's'}`;
    if (document.activeElement !== $('scenario')) {
      $('scenario').value = a.scenario;
    }
    const ledger = $('ledger');
    ledger.replaceChildren();
    (a.ledger || []).slice(-4).reverse().forEach((entry) => {
      const li = element('li', entry.amount < 0 ? 'spend' : 'credit');
      li.appendChild(element('span', 'amount', entry.amount > 0 ? `+${entry.amount}` : `−${-entry.amount}`));
      li.appendChild(element('span', 'reason', entry.reason));
      li.appendChild(element('time', null, clock(entry.at)));
      ledger.appendChild(li);
    });
    showPayments(Array.isArray(a.payments) ? a.payments : []);
  }

  async function refreshAccount() {
    try {
      showAccount(await call('GET', 'account'));
    } catch (e) {
      problem(`Account: ${e.message}`);
    }
  }

  function scheduleAccount(delay) {
    clearTimeout(accountTimer);
    accountTimer = setTimeout(refreshAccount, delay);
  }

  async function accountAction(method, path, body) {
    try {
      showAccount(await call(method, path, body));
    } catch (e) {
      problem(e.message);
    }
  }

  // ------------------------------------------------------------------ wiring

  function wire() {
    $('user-id').textContent = `User ${userId}`;
    document.title = `Sandbox · user ${userId}`;
    $('lang').value = sessionStorage.getItem('sandbox.lang') || 'ru';
    $('lang').addEventListener('change', () => sessionStorage.setItem('sandbox.lang', $('lang').value));

    $('composer').addEventListener('submit', async (e) => {
      e.preventDefault();
      const input = $('text');
      const text = input.value.trim();
      if (!text) {
        return;
      }
      input.value = '';
      if (!(await send(text))) {
        input.value = text;
      }
      input.focus();
    });
    document.querySelectorAll('#commands button').forEach((b) =>
      b.addEventListener('click', () => send(b.dataset.command)));
    $('file').addEventListener('change', async () => {
      const input = $('file');
      const files = Array.from(input.files);
      input.value = '';
      for (const file of files) {
        await upload(file);
      }
    });

    document.querySelectorAll('button.credit').forEach((b) =>
      b.addEventListener('click', () =>
        accountAction('POST', 'credit', { amount: Number(b.dataset.amount), idempotency_key: freshKey() })));
    $('block').addEventListener('click', () => accountAction('POST', blocked ? 'unblock' : 'block'));
    $('scenario').addEventListener('change', async () => {
      try {
        await call('POST', 'scenario', { scenario: $('scenario').value });
      } catch (e) {
        problem(e.message);
      }
    });

    connect();
    refreshAccount();
    setInterval(() => {
      if (!document.hidden) {
        refreshAccount();
      }
    }, ACCOUNT_EVERY_MS);
  }

  wire();
})();
