// Zawgyi detection and conversion off the page's thread, with Google's myanmar-tools 1.1.3 (vendored, Apache-2.0).
// Its files are the npm package's CommonJS build, byte for byte: they fill `exports` and decode with `Buffer`.

self.exports = {};
self.Buffer = function (base64) { return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)); };
importScripts("../vendor/myanmar-tools-1.1.3-zawgyi_detector.js", "../vendor/myanmar-tools-1.1.3-zawgyi_converter.js");
const detector = new self.exports.ZawgyiDetector();
const converter = new self.exports.ZawgyiConverter();

self.onmessage = ({ data }) => {
  // {id, op: "detect" | "toUnicode" | "toZawgyi", text} -> {id, result}
  const { id, op, text } = data;
  const result = op === "detect" ? detector.getZawgyiProbability(text)
    : op === "toUnicode" ? converter.zawgyiToUnicode(text) : converter.unicodeToZawgyi(text);
  self.postMessage({ id, result });
};
