// The body's JSON read strictly, as docs/format.md §5.1 rules 1-5 say (intake/crypto/bodyjson.py in Python).

const MAX_DEPTH = 16;
const MAX_INTEGER = 2 ** 53 - 1;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function wellFormed(text) {
  // `text` with every lone surrogate replaced by U+FFFD, as writers must before sealing (§5.1 rule 4).
  return text.replace(new RegExp(LONE_SURROGATE.source, "g"), "\ufffd");
}

export function strictJson(text) {
  // JSON.parse under §5.1 rules 1-5: one flat scan (no recursion) checks depth, duplicate names, lone
  // surrogates and number forms first; JSON.parse checks the grammar.
  const token = { string: /"[^"\\]*(?:\\.[^"\\]*)*"/y, number: /-?[0-9.eE+-]*/y, space: /[ \t\n\r]*/y };
  const match = (re, at) => { re.lastIndex = at; return re.exec(text); };
  const names = [];
  for (let at = 0; at < text.length;) {
    const c = text[at];
    if (c === "{" || c === "[") {
      names.push(c === "{" ? new Set() : null);
      if (names.length > MAX_DEPTH) throw new Error(`nested more than ${MAX_DEPTH} deep`);
      at++;
    } else if (c === "}" || c === "]") {
      names.pop();
      at++;
    } else if (c === '"') {
      const found = match(token.string, at);
      if (!found) throw new Error("a string does not end");
      const value = JSON.parse(found[0]);
      if (LONE_SURROGATE.test(value)) throw new Error("a string holds a lone surrogate");
      at += found[0].length;
      const next = at + match(token.space, at)[0].length;
      const members = names[names.length - 1];
      if (text[next] === ":" && members) {
        if (members.has(value)) throw new Error("an object has two members with the same name");
        members.add(value);
      }
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const found = match(token.number, at)[0];
      if (!/^(0|[1-9][0-9]{0,15})$/.test(found) || Number(found) > MAX_INTEGER) {
        throw new Error("a number must be a non-negative integer below 2^53 in plain digits");
      }
      at += found.length;
    } else {
      at++;
    }
  }
  return JSON.parse(text);
}
