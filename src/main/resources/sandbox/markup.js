// Renders a bot message as Telegram shows it, for the parse modes the Bot API knows (HTML,
// Markdown, MarkdownV2, none). Builds DOM nodes only: text always goes in through text nodes,
// markup becomes a fixed set of elements, links keep only http(s)/tg/mailto URLs. No string
// from a message ever reaches innerHTML.
'use strict';

window.SandboxMarkup = (() => {
  const LINK_PROTOCOLS = ['http:', 'https:', 'tg:', 'mailto:'];

  function safeUrl(href) {
    try {
      const url = new URL(href);
      return LINK_PROTOCOLS.includes(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href) {
    const url = safeUrl(href);
    if (!url) {
      return document.createElement('span');
    }
    const a = document.createElement('a');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    return a;
  }

  function spoiler() {
    const span = document.createElement('span');
    span.className = 'spoiler';
    span.title = 'Spoiler';
    span.addEventListener('click', () => span.classList.add('revealed'));
    return span;
  }

  function pre(code, language) {
    const block = document.createElement('pre');
    const inner = document.createElement('code');
    if (language) {
      inner.dataset.language = language;
    }
    inner.textContent = code;
    block.appendChild(inner);
    return block;
  }

  /** Appends text to a parent, as a text node. */
  function text(parent, value) {
    if (value) {
      parent.appendChild(document.createTextNode(value));
    }
  }

  // ------------------------------------------------------------------ HTML

  const HTML_TAGS = {
    b: 'b', strong: 'b', i: 'i', em: 'i', u: 'u', ins: 'u', s: 's', strike: 's', del: 's',
    code: 'code', pre: 'pre', blockquote: 'blockquote', a: 'a', span: 'span',
    'tg-spoiler': 'spoiler', 'tg-emoji': 'span',
  };
  const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/y;
  const ATTRIBUTE = /([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  const ENTITY = /&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos|nbsp);/y;
  const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0' };

  function entity(name) {
    if (name[0] !== '#') {
      return NAMED[name];
    }
    const code = name[1] === 'x' || name[1] === 'X'
      ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
      ? String.fromCodePoint(code) : '\ufffd';
  }

  function attributes(source) {
    const found = {};
    let m;
    ATTRIBUTE.lastIndex = 0;
    while ((m = ATTRIBUTE.exec(source)) !== null) {
      found[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
    }
    return found;
  }

  function decodeEntities(value) {
    return value.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos|nbsp);/g,
      (all, name) => entity(name));
  }

  function htmlElement(tag, attrs) {
    switch (HTML_TAGS[tag]) {
      case 'a':
        return link(attrs.href || '');
      case 'spoiler':
        return spoiler();
      case 'span':
        return attrs.class === 'tg-spoiler' ? spoiler() : document.createElement('span');
      case 'pre': {
        const block = document.createElement('pre');
        block.className = 'block';
        return block;
      }
      default:
        return document.createElement(HTML_TAGS[tag]);
    }
  }

  function renderHtml(source) {
    const root = document.createDocumentFragment();
    const stack = [{ node: root, tag: null }];
    let buffer = '';
    let i = 0;
    const flush = () => {
      text(stack[stack.length - 1].node, buffer);
      buffer = '';
    };
    while (i < source.length) {
      const c = source[i];
      if (c === '<') {
        TAG.lastIndex = i;
        const m = TAG.exec(source);
        const tag = m && m[2].toLowerCase();
        if (m && HTML_TAGS[tag]) {
          flush();
          if (m[1]) {
            let open = stack.length - 1;
            while (open > 0 && stack[open].tag !== tag) {
              open--;
            }
            if (open > 0) {
              stack.length = open;
            }
          } else {
            const element = htmlElement(tag, attributes(m[3]));
            stack[stack.length - 1].node.appendChild(element);
            stack.push({ node: element, tag });
          }
          i = TAG.lastIndex;
          continue;
        }
      } else if (c === '&') {
        ENTITY.lastIndex = i;
        const m = ENTITY.exec(source);
        if (m) {
          buffer += entity(m[1]);
          i = ENTITY.lastIndex;
          continue;
        }
      }
      buffer += c;
      i++;
    }
    flush();
    return root;
  }

  // ------------------------------------------------------------------ Markdown (legacy)

  const LINK = /\[([^\]\n]+)\]\(([^)\s]+)\)/y;

  function codeBlock(source, i) {
    const end = source.indexOf('```', i + 3);
    if (end < 0) {
      return null;
    }
    let body = source.slice(i + 3, end);
    let language = '';
    const firstLine = /^([A-Za-z0-9_+-]+)\n/.exec(body);
    if (firstLine) {
      language = firstLine[1];
      body = body.slice(firstLine[0].length);
    }
    return { node: pre(body.replace(/^\n/, ''), language), next: end + 3 };
  }

  function renderMarkdown(source) {
    const root = document.createDocumentFragment();
    let buffer = '';
    let i = 0;
    const flush = () => {
      text(root, buffer);
      buffer = '';
    };
    const styled = (tag, content) => {
      const element = document.createElement(tag);
      element.textContent = content;
      return element;
    };
    while (i < source.length) {
      const c = source[i];
      if (c === '\\' && i + 1 < source.length && '_*`['.includes(source[i + 1])) {
        buffer += source[i + 1];
        i += 2;
        continue;
      }
      if (source.startsWith('```', i)) {
        const block = codeBlock(source, i);
        if (block) {
          flush();
          root.appendChild(block.node);
          i = block.next;
          continue;
        }
      }
      if (c === '`' || c === '*' || c === '_') {
        const end = source.indexOf(c, i + 1);
        if (end > i + 1) {
          flush();
          root.appendChild(styled(c === '`' ? 'code' : c === '*' ? 'b' : 'i', source.slice(i + 1, end)));
          i = end + 1;
          continue;
        }
      }
      if (c === '[') {
        LINK.lastIndex = i;
        const m = LINK.exec(source);
        if (m) {
          flush();
          const a = link(m[2]);
          a.textContent = m[1];
          root.appendChild(a);
          i = LINK.lastIndex;
          continue;
        }
      }
      buffer += c;
      i++;
    }
    flush();
    return root;
  }

  // ------------------------------------------------------------------ MarkdownV2

  const V2_MARKERS = [['||', 'spoiler'], ['__', 'u'], ['*', 'b'], ['_', 'i'], ['~', 's']];

  function renderMarkdownV2(source) {
    const root = document.createDocumentFragment();
    const stack = [{ node: root, marker: null }];
    let buffer = '';
    let i = 0;
    const top = () => stack[stack.length - 1];
    const flush = () => {
      text(top().node, buffer);
      buffer = '';
    };
    outer:
    while (i < source.length) {
      const c = source[i];
      if (c === '\\' && i + 1 < source.length) {
        buffer += source[i + 1];
        i += 2;
        continue;
      }
      if (source.startsWith('```', i)) {
        const block = codeBlock(source, i);
        if (block) {
          flush();
          top().node.appendChild(block.node);
          i = block.next;
          continue;
        }
      }
      if (c === '`') {
        const end = source.indexOf('`', i + 1);
        if (end > i) {
          flush();
          const code = document.createElement('code');
          code.textContent = source.slice(i + 1, end).replace(/\\([`\\])/g, '$1');
          top().node.appendChild(code);
          i = end + 1;
          continue;
        }
      }
      if (c === '[') {
        flush();
        const holder = document.createElement('span');
        top().node.appendChild(holder);
        stack.push({ node: holder, marker: '[' });
        i++;
        continue;
      }
      if (c === ']' && top().marker === '[') {
        const m = /^\]\(((?:\\.|[^)\\])*)\)/.exec(source.slice(i));
        if (m) {
          flush();
          const holder = stack.pop().node;
          const a = link(m[1].replace(/\\(.)/g, '$1'));
          while (holder.firstChild) {
            a.appendChild(holder.firstChild);
          }
          holder.replaceWith(a);
          i += m[0].length;
          continue;
        }
      }
      for (const [marker, tag] of V2_MARKERS) {
        if (source.startsWith(marker, i)) {
          flush();
          if (top().marker === marker) {
            stack.pop();
          } else {
            const element = tag === 'spoiler' ? spoiler() : document.createElement(tag);
            top().node.appendChild(element);
            stack.push({ node: element, marker });
          }
          i += marker.length;
          continue outer;
        }
      }
      buffer += c;
      i++;
    }
    flush();
    return root;
  }

  /** The message as DOM nodes, for a parse mode as the Bot API names it (any case) or none. */
  function render(source, parseMode) {
    const value = source == null ? '' : String(source);
    switch ((parseMode || '').toLowerCase()) {
      case 'html':
        return renderHtml(value);
      case 'markdown':
        return renderMarkdown(value);
      case 'markdownv2':
        return renderMarkdownV2(value);
      default: {
        const root = document.createDocumentFragment();
        text(root, value);
        return root;
      }
    }
  }

  return { render, safeUrl };
})();
