/* global module */
// Stand-in for brotli/decompress.js in the Lambda bundles: fontkit needs it only for WOFF2 fonts, and
// the report font is OpenType (.otf). Saves ~475 KB per bundle that renders PDFs.
module.exports = function decompress() {
  throw new Error('WOFF2 fonts are not supported in the TeleRead Lambda bundle; use the .otf face');
};
