// The lazily loaded maths chunk. KaTeX renders to MathML only: browsers lay MathML out natively,
// so no KaTeX fonts or stylesheet are needed and the output carries no inline style attributes
// (which `Content-Security-Policy: default-src 'self'` would block).

import katex from 'katex';

/** TeX → MathML markup; errors are rendered by KaTeX as the red source text. */
export function texToMathml(tex, displayMode) {
  return katex.renderToString(tex, {
    displayMode,
    output: 'mathml',
    throwOnError: false,
    trust: false,
    strict: 'ignore',
  });
}
