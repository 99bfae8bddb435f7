// Number protection tests (issue 9): did an agent's phone receive a customer's real number?
// Reads what a sipp phone received (its -trace_msg message file) and searches every message, whole
// (start line, headers, SDP), for the number in every form it can be written in, and for the
// digits the mask hides together with a visible neighbour.
//
// Pure except readAllMessages / readReceivedMessages, which read one file.
import { promises as fs } from 'node:fs';
import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';

// ---------------------------------------------------------------------------------------------
// sipp's message file
//
// sipp 3.x (3.6.1 here) writes one entry per message it sent or received, flushed as it goes:
//
//   ----------------------------------------------- 2026-12-01 21:38:15.303174
//   UDP message received [521] bytes :
//   <blank line>
//   <the 521 bytes, CRLF line ends as on the wire>
//   <one \n>
//
// and for sent messages the title line is `UDP message sent (317 bytes):`. The transport is UDP,
// TCP, TLS ...; `control ` precedes `message` on a 3PCC control socket. A received message is
// logged before sipp looks it up, so messages it then discards or answers automatically (-aa) are
// there too. sipp also writes entries whose separator line has no time and whose title is not a
// message line ("Unexpected UDP message received:", "Dead call ... received a UDP message:"):
// those repeat a message already logged as received, and are skipped here.

export interface TracedMessage {
  direction: 'received' | 'sent';
  /** The message as on the wire: start line, headers, body (decoded as UTF-8). */
  text: string;
  /** UDP, TCP, TLS, ... as sipp names it. */
  transport: string;
  /** The time on the separator line (sipp's local time, microseconds), null when absent. */
  time: string | null;
  /** A 3PCC control-socket message (sipp to sipp). */
  control: boolean;
  /**
   * False when the text is not the byte count sipp announced: the file was read while sipp was
   * writing the entry, or sipp printed a received message only up to a NUL byte.
   */
  complete: boolean;
}

const SEPARATOR = '-'.repeat(47);
/** A separator line at `lastIndex` (sticky): the dashes, then an optional ` <time>`. */
const SEPARATOR_AT = new RegExp(`${SEPARATOR}(?: ([^\\n]*))?\\n`, 'y');
/** The next separator line after a message: a \n ends the previous line, then the dashes. */
const NEXT_SEPARATOR = new RegExp(`\\n${SEPARATOR}(?: [^\\n]*)?\\n`, 'g');
const TITLE = /^(\S+) (control )?message (?:received \[(\d+)\] bytes :|sent \((\d+) bytes\):)$/;

/** Parses the content of a sipp -trace_msg message file (see above). */
export function parseMessageFile(content: Buffer): TracedMessage[] {
  // latin1 maps each byte to one character, so string offsets are byte offsets and sipp's byte
  // counts can be used as they are; each message is decoded as UTF-8 from the bytes afterwards.
  const s = content.toString('latin1');
  const out: TracedMessage[] = [];
  const nextSeparator = (from: number): number => {
    NEXT_SEPARATOR.lastIndex = from;
    const m = NEXT_SEPARATOR.exec(s);
    return m ? m.index : -1;
  };
  let pos = 0;
  while (pos < s.length) {
    SEPARATOR_AT.lastIndex = pos;
    const sep = SEPARATOR_AT.exec(s);
    if (!sep) {
      // Not at an entry (text before the first one): go to the next separator line.
      const next = nextSeparator(pos === 0 ? 0 : pos - 1);
      if (next < 0 || next + 1 <= pos) break;
      pos = next + 1;
      continue;
    }
    const titleStart = SEPARATOR_AT.lastIndex;
    const titleEnd = s.indexOf('\n', titleStart);
    if (titleEnd < 0) break; // the file ends in the middle of an entry's title
    const title = TITLE.exec(s.slice(titleStart, titleEnd));
    if (!title) {
      // A note that repeats an already logged message: skip to the next entry.
      const next = nextSeparator(titleEnd);
      if (next < 0) break;
      pos = next + 1;
      continue;
    }
    const announced = Number(title[3] ?? title[4]);
    // The title is followed by one blank line, then the message.
    const start = s.startsWith('\n', titleEnd + 1) ? titleEnd + 2 : titleEnd + 1;
    const end = start + announced;
    let bodyEnd: number;
    let complete: boolean;
    let nextPos: number;
    SEPARATOR_AT.lastIndex = end + 1;
    if (end < s.length && s[end] === '\n' && (end + 1 === s.length || SEPARATOR_AT.test(s))) {
      // The usual case: exactly the announced bytes, then sipp's \n and the next entry (or the end).
      bodyEnd = end;
      complete = true;
      nextPos = end + 1;
    } else {
      // Shorter than announced (cut at a NUL, or still being written): up to the next entry.
      const next = nextSeparator(start > 0 ? start - 1 : 0);
      bodyEnd = next < 0 ? s.length : next;
      complete = bodyEnd - start === announced;
      nextPos = next < 0 ? s.length : next + 1;
    }
    out.push({
      direction: title[3] !== undefined ? 'received' : 'sent',
      text: content.subarray(start, bodyEnd).toString('utf8'),
      transport: title[1]!,
      time: sep[1] ?? null,
      control: title[2] !== undefined,
      complete,
    });
    pos = nextPos;
  }
  return out;
}

/** Every message in a sipp message file, sent and received, in file order. */
export async function readAllMessages(messageFile: string): Promise<TracedMessage[]> {
  return parseMessageFile(await fs.readFile(messageFile));
}

/** The full text of every message sipp received (not those it sent), in order. */
export async function readReceivedMessages(messageFile: string): Promise<string[]> {
  return (await readAllMessages(messageFile)).filter((m) => m.direction === 'received').map((m) => m.text);
}

// ---------------------------------------------------------------------------------------------
// The forms of a number

export interface NumberForm {
  /** What the form is, for messages: "E.164", "national (NSN)", ... */
  form: string;
  /** The form without separators, e.g. "+8613800138000", "013800138000", "138(0|*)..." */
  text: string;
  /** Finds the form in text, with separators between digits (global; use with matchAll). */
  regex: RegExp;
}

/**
 * What may stand between two digits of a written number: space or tab, ( ) . - and their URI
 * escapes (%20 %2D %28 %29). Line breaks are left out on purpose: a number is never split across
 * lines of a SIP message, and allowing them would join the digits that end one SDP line
 * (`PCMU/8000`) to those starting the next.
 */
const SEP = '(?:[ \\t().\\-]|%20|%2[dD]|%28|%29)*';
/** '+' as written, or %-escaped in a URI. */
const PLUS = '(?:\\+|%2[bB])';
/** A masking character as it may appear in text or a URI. */
const MASK = '(?:\\*|%2[aA]|[xX])';

const digitsRegex = (digits: string): string => [...digits].join(SEP);

function parseCanonical(e164: string, what: string): { cc: string; nsn: string; country: string | undefined } {
  if (!/^\+[1-9][0-9]{1,14}$/.test(e164)) throw new Error(`${what}: ${JSON.stringify(e164)} is not canonical E.164`);
  const p = parsePhoneNumberFromString(e164, { extract: false });
  if (!p || !/^[0-9]+$/.test(p.nationalNumber)) throw new Error(`${what}: libphonenumber cannot read ${e164}`);
  return { cc: p.countryCallingCode, nsn: p.nationalNumber, country: p.country };
}

/** The national (trunk) prefix of the number's country from libphonenumber's metadata, or null. */
function nationalPrefix(cc: string, country: string | undefined): string | null {
  try {
    const meta = new Metadata();
    // By country where known (NANP countries share +1); else by calling code.
    meta.selectNumberingPlan((country ?? cc) as Parameters<Metadata['selectNumberingPlan']>[0]);
    // nationalPrefix() is there at run time but missing from libphonenumber-js's type of NumberingPlan.
    const plan = meta.numberingPlan as unknown as { nationalPrefix?: () => string | undefined } | undefined;
    const prefix = plan?.nationalPrefix?.();
    return typeof prefix === 'string' && /^[0-9]+$/.test(prefix) ? prefix : null;
  } catch {
    return null;
  }
}

/**
 * Every form the real number can take in text, given canonical E.164 (`+8613800138000`): each a
 * regex that allows separators between digits (and `%2B` for `+`). The national form alone would
 * find all of them; each is kept explicit so that a reader, and a failure message, sees which
 * one was found.
 */
export function numberForms(e164: string): NumberForm[] {
  const { cc, nsn, country } = parseCanonical(e164, 'numberForms');
  const formatted = parsePhoneNumberFromString(e164, { extract: false })?.formatNational().replace(/[^0-9]/g, '') ?? '';
  const metaPrefix = nationalPrefix(cc, country);
  const candidates: { form: string; plus: boolean; digits: string }[] = [
    { form: 'E.164', plus: true, digits: cc + nsn },
    { form: 'E.164 without +', plus: false, digits: cc + nsn },
    { form: 'international prefix 00', plus: false, digits: `00${cc}${nsn}` },
    { form: 'international prefix 011', plus: false, digits: `011${cc}${nsn}` },
    { form: 'national (NSN)', plus: false, digits: nsn },
    ...(metaPrefix ? [{ form: `national with trunk prefix ${metaPrefix} (${country ?? `+${cc}`})`, plus: false, digits: metaPrefix + nsn }] : []),
    // 0 and 1 are written before national numbers in many countries, whatever this one uses.
    { form: 'national with 0 before it', plus: false, digits: `0${nsn}` },
    { form: 'national with 1 before it', plus: false, digits: `1${nsn}` },
    { form: 'national format', plus: false, digits: formatted },
  ];
  // One regex per distinct form; names of forms with the same digits are merged (for NANP,
  // "E.164 without +" is also "national with trunk prefix 1").
  const byKey = new Map<string, { forms: string[]; plus: boolean; digits: string }>();
  for (const c of candidates) {
    if (!c.digits) continue;
    const key = `${c.plus ? '+' : ''}${c.digits}`;
    const seen = byKey.get(key);
    if (seen) seen.forms.push(c.form);
    else byKey.set(key, { forms: [c.form], plus: c.plus, digits: c.digits });
  }
  return [...byKey.values()].map((f) => ({
    form: f.forms.join(' / '),
    text: `${f.plus ? '+' : ''}${f.digits}`,
    regex: new RegExp(`${f.plus ? PLUS + SEP : ''}${digitsRegex(f.digits)}`, 'g'),
  }));
}

/** The national part of a masked number: `+86 138****8000` or `138****8000` -> `138****8000`. */
function maskedNational(masked: string): string {
  const national = masked.trim().replace(/^\+[0-9]+\s+/, '');
  if (!/^[0-9*]+$/.test(national)) throw new Error(`masked number ${JSON.stringify(masked)} must be digits and *, after an optional "+<cc> "`);
  return national;
}

/** Where the masked number hides digits of the NSN: one [start, end) per run of '*'. */
function hiddenRuns(e164: string, masked: string, what: string): { nsn: string; national: string; runs: [number, number][] } {
  const { nsn } = parseCanonical(e164, what);
  const national = maskedNational(masked);
  // Nothing hidden, or everything (short numbers are hidden whole as '****', whatever their
  // length): no visible digit to anchor a pattern; the national form in numberForms is the search.
  if (!national.includes('*') || !/[0-9]/.test(national)) return { nsn, national, runs: [] };
  if (national.length !== nsn.length) throw new Error(`${what}: ${masked} is not a mask of ${e164} (national ${nsn})`);
  for (let i = 0; i < nsn.length; i++) {
    if (national[i] !== '*' && national[i] !== nsn[i]) throw new Error(`${what}: ${masked} shows a digit that ${e164} does not have at position ${i}`);
  }
  const runs: [number, number][] = [];
  for (let i = 0; i < national.length; i++) {
    if (national[i] !== '*') continue;
    let j = i;
    while (j < national.length && national[j] === '*') j++;
    runs.push([i, j]);
    i = j;
  }
  return { nsn, national, runs };
}

/**
 * The hidden digits with a visible neighbour: for `+8613800138000` masked `138****8000` (hidden
 * "0013") the strings "80013" (with the visible 8 before) and "00138" (with the 8 after), as
 * regexes allowing separators. Text holding one of them reveals every hidden digit and where they
 * go. Empty when the whole national number is hidden (then there is no neighbour, and the
 * national form in numberForms is the search).
 *
 * These 5-digit strings are short: an unrelated digit run (an IPv4 address with '.' as separator,
 * a timestamp, a tag) can hold one by chance; a hit names the header so that it can be told.
 */
export function hiddenDigitPatterns(e164: string, masked: string): NumberForm[] {
  const { nsn, runs } = hiddenRuns(e164, masked, 'hiddenDigitPatterns');
  const out: NumberForm[] = [];
  for (const [start, end] of runs) {
    const hidden = nsn.slice(start, end);
    if (start > 0) {
      const text = nsn.slice(start - 1, end);
      out.push({ form: `hidden digits ${hidden} with the visible ${nsn[start - 1]} before them`, text, regex: new RegExp(digitsRegex(text), 'g') });
    }
    if (end < nsn.length) {
      const text = nsn.slice(start, end + 1);
      out.push({ form: `hidden digits ${hidden} with the visible ${nsn[end]} after them`, text, regex: new RegExp(digitsRegex(text), 'g') });
    }
  }
  return out;
}

/**
 * The masked layout with a hidden digit shown: `1380***8000` (one more digit next to the mask),
 * `138*0**8000`, or the mask shifted (`1380****000`). One regex per hidden position: that
 * position shows its real digit, every other position shows its real digit or a mask character
 * (`*`, `%2A`, `x`). The neighbour patterns above need all hidden digits and miss these; an
 * agent who sees such a form learns a hidden digit and its place.
 */
export function partialMaskPatterns(e164: string, masked: string): NumberForm[] {
  const { nsn, runs } = hiddenRuns(e164, masked, 'partialMaskPatterns');
  const out: NumberForm[] = [];
  for (const [start, end] of runs) {
    for (let j = start; j < end; j++) {
      const positions = [...nsn].map((d, i) => (i === j ? d : `(?:${d}|${MASK})`));
      const text = [...nsn].map((d, i) => (i === j ? d : `(${d}|*)`)).join('');
      out.push({ form: `masked form showing hidden digit ${j + 1} (${nsn[j]})`, text, regex: new RegExp(positions.join(SEP), 'g') });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Searching messages

export interface Leak {
  /** Which form was found (see NumberForm.form). */
  form: string;
  /** Index of the message in the list searched. */
  messageIndex: number;
  /** The message's start line (`INVITE sip:... SIP/2.0`, `SIP/2.0 200 OK`). */
  startLine: string;
  /** Where the hit is: a header name (`From`, `P-Asserted-Identity`), `start line`, or `body (o=)`. */
  where: string;
  /** The text that matched. */
  match: string;
  /** Offset of the match in the message. */
  index: number;
  /** The match with some text around it, line breaks shown as ⏎. */
  excerpt: string;
}

const EXCERPT_CONTEXT = 40;

function excerptAt(text: string, index: number, length: number): string {
  const from = Math.max(0, index - EXCERPT_CONTEXT);
  const to = Math.min(text.length, index + length + EXCERPT_CONTEXT);
  const show = (t: string) => t.replace(/\r?\n|\r/g, '⏎');
  return `${from > 0 ? '…' : ''}${show(text.slice(from, index))}[${show(text.slice(index, index + length))}]${show(text.slice(index + length, to))}${to < text.length ? '…' : ''}`;
}

/** The header (or start line, or SDP line type) that holds offset `index` of a SIP message. */
function locate(text: string, index: number): string {
  const head = /\r?\n\r?\n/.exec(text);
  const headEnd = head ? head.index : text.length;
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  if (index >= headEnd) {
    const sdp = /^([a-z])=/.exec(text.slice(lineStart, lineStart + 2));
    return sdp ? `body (${sdp[1]}=)` : 'body';
  }
  if (lineStart === 0) return 'start line';
  // A folded header line (starts with white space) belongs to the header above it.
  let start = lineStart;
  while (start > 0 && /^[ \t]/.test(text.slice(start, start + 1))) start = text.lastIndexOf('\n', start - 2) + 1;
  if (start === 0) return 'start line';
  const line = text.slice(start, text.indexOf('\n', start) < 0 ? undefined : text.indexOf('\n', start));
  const colon = line.indexOf(':');
  return colon > 0 ? line.slice(0, colon).trim() : 'headers';
}

/**
 * Every place where `messages` hold `e164` in any form (numberForms) and, with `masked` (the
 * masked national or display form), the hidden digits with a neighbour (hiddenDigitPatterns) or a
 * hidden digit in the masked layout (partialMaskPatterns). A hit inside a wider hit (the national
 * number inside the E.164 one) is reported once, as the widest form.
 */
export function findLeaks(messages: readonly string[], e164: string, masked?: string): Leak[] {
  const forms = [...numberForms(e164), ...(masked !== undefined ? [...hiddenDigitPatterns(e164, masked), ...partialMaskPatterns(e164, masked)] : [])];
  const leaks: Leak[] = [];
  messages.forEach((text, messageIndex) => {
    const hits: { form: string; order: number; index: number; match: string }[] = [];
    // The SDP origin's session id and version are random numbers (RFC 4566): they cannot carry a
    // caller's number, and by chance they hold any digit run (a CI run saw 1385186900 read as
    // hidden digits). Blanked at the same length, so offsets stay those of the message.
    const scanned = text.replace(/^(o=\S+ )(\d+) (\d+)/gm, (_m, pre: string, id: string, version: string) => `${pre}${'x'.repeat(id.length)} ${'x'.repeat(version.length)}`);
    forms.forEach((f, order) => {
      for (const m of scanned.matchAll(f.regex)) hits.push({ form: f.form, order, index: m.index ?? 0, match: m[0] });
    });
    // Widest first at each offset, then the earlier form; drop hits inside one already kept.
    hits.sort((a, b) => a.index - b.index || b.match.length - a.match.length || a.order - b.order);
    const startLine = text.split(/\r?\n/, 1)[0] ?? '';
    let keptEnd = -1;
    for (const h of hits) {
      const end = h.index + h.match.length;
      if (end <= keptEnd) continue;
      keptEnd = Math.max(keptEnd, end);
      leaks.push({
        form: h.form,
        messageIndex,
        startLine,
        where: locate(text, h.index),
        match: h.match,
        index: h.index,
        excerpt: excerptAt(text, h.index, h.match.length),
      });
    }
  });
  return leaks;
}

/** Throws an Error listing every leak findLeaks finds (message, header, form, excerpt). */
export function assertNoLeaks(messages: readonly string[], e164: string, masked: string | undefined, what: string): void {
  const leaks = findLeaks(messages, e164, masked);
  if (leaks.length === 0) return;
  const lines = leaks.map((l) => `  message ${l.messageIndex} (${l.startLine}), ${l.where}: ${l.form}: ${l.excerpt}`);
  throw new Error(`${what}: ${leaks.length} hit(s) of ${e164}${masked !== undefined ? ` (masked ${masked})` : ''} in ${messages.length} message(s):\n${lines.join('\n')}`);
}
