// A small, safe Markdown renderer for text panels: it builds DOM nodes (never innerHTML), so
// raw HTML in the source shows as text. Headings, paragraphs, emphasis, inline code, code
// blocks, lists, block quotes, horizontal rules, and links (http(s), relative, mailto only).
import { h } from './util.js';

function safeHref(url) {
  const u = String(url).trim();
  if (/^(https?:|mailto:)/i.test(u) || /^[^:]*$/.test(u)) return u;
  return null;
}

/** Inline markup: `code`, **bold**, *em* / _em_, [text](url), <autolinks>. */
export function inline(text) {
  const out = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*]+)\*|_([^_]+)_|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|<(https?:\/\/[^>\s]+)>/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] != null) out.push(h('code', null, m[1]));
    else if (m[2] != null || m[3] != null) out.push(h('strong', null, inline(m[2] ?? m[3])));
    else if (m[4] != null || m[5] != null) out.push(h('em', null, inline(m[4] ?? m[5])));
    else if (m[6] != null) {
      const href = safeHref(m[7]);
      out.push(href ? h('a', { href, target: /^https?:/.test(href) ? '_blank' : null, rel: 'noopener noreferrer' }, inline(m[6])) : m[6]);
    } else if (m[8] != null) out.push(h('a', { href: m[8], target: '_blank', rel: 'noopener noreferrer' }, m[8]));
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Renders Markdown source into a DocumentFragment. */
export function renderMarkdown(src) {
  const frag = document.createDocumentFragment();
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) frag.append(h('p', null, inline(para.join(' '))));
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (/^\s*$/.test(line)) {
      flush();
      i++;
    } else if ((m = /^```\s*(\w*)/.exec(line))) {
      flush();
      const code = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i])) code.push(lines[i++]);
      i++;
      frag.append(h('pre', null, h('code', null, code.join('\n'))));
    } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      flush();
      frag.append(h(`h${m[1].length}`, null, inline(m[2].replace(/\s*#+\s*$/, ''))));
      i++;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      frag.append(h('hr'));
      i++;
    } else if (/^\s*>/.test(line)) {
      flush();
      const q = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) q.push(lines[i++].replace(/^\s*>\s?/, ''));
      const bq = h('blockquote');
      bq.append(renderMarkdown(q.join('\n')));
      frag.append(bq);
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? 'ol' : 'ul');
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
        list.append(h('li', null, inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ''))));
        i++;
      }
      frag.append(list);
    } else {
      para.push(line.trim());
      i++;
    }
  }
  flush();
  return frag;
}
