#!/usr/bin/env node
// Builds the chatkitd web UI into a static site:
//
//   node ui/build.mjs --out DIR [--no-minify]
//
// DIR gets index.html (no inline script or style: CSP `default-src 'self'`), the content-hashed
// entry scripts and stylesheet, and the lazy chunks (KaTeX). It prints every file with its
// gzipped size and the first-load total (what index.html loads before any lazy chunk), and
// exits non-zero on any error.

import { copyFile, mkdir, readFile, rm, writeFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIRST_LOAD_BUDGET = 150 * 1024;

function parseArgs(argv) {
  const args = { out: null, minify: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') args.out = argv[++i];
    else if (a.startsWith('--out=')) args.out = a.slice(6);
    else if (a === '--no-minify') args.minify = false;
    else throw new Error(`unknown argument ${a} (usage: node ui/build.mjs --out DIR [--no-minify])`);
  }
  if (!args.out) throw new Error('missing --out DIR (usage: node ui/build.mjs --out DIR)');
  return args;
}

// The element's stylesheet is adopted into its shadow root, so it is imported as (minified)
// text rather than emitted as a file.
const shadowCss = (minify) => ({
  name: 'shadow-css',
  setup(build) {
    build.onLoad({ filter: /\.shadow\.css$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const out = await esbuild.transform(source, { loader: 'css', minify, sourcefile: args.path });
      return { contents: out.code, loader: 'text' };
    });
  },
});

async function listFiles(dir) {
  const out = [];
  for (const name of await readdir(dir)) {
    const full = path.join(dir, name);
    if ((await stat(full)).isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const out = path.resolve(args.out);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  const result = await esbuild.build({
    entryPoints: {
      app: path.join(here, 'src/app/main.js'),
      chatkit: path.join(here, 'src/chatkit/index.js'),
    },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16.4'],
    minify: args.minify,
    sourcemap: false,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: 'asset-[name]-[hash]',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [shadowCss(args.minify)],
  });

  const outputs = result.metafile.outputs;
  const rel = (p) => path.relative(out, path.resolve(p)).split(path.sep).join('/');
  const appJs = Object.keys(outputs).find((p) => outputs[p].entryPoint?.endsWith('src/app/main.js'));
  if (!appJs) throw new Error('the build produced no app entry');
  const appCss = outputs[appJs].cssBundle;
  if (!appCss) throw new Error('the app entry produced no stylesheet');

  // Static imports of the entry load with it; dynamic imports (KaTeX) are lazy.
  const firstLoad = new Set([rel(appJs), rel(appCss)]);
  const walk = (file) => {
    for (const imp of outputs[file]?.imports || []) {
      if (imp.kind !== 'import-statement' || imp.external) continue;
      const key = Object.keys(outputs).find((p) => path.resolve(p) === path.resolve(out, rel(imp.path)) || p === imp.path);
      if (key && !firstLoad.has(rel(key))) {
        firstLoad.add(rel(key));
        walk(key);
      }
    }
  };
  walk(appJs);

  const template = await readFile(path.join(here, 'src/index.html'), 'utf8');
  const preloads = [...firstLoad]
    .filter((f) => f.endsWith('.js') && f !== rel(appJs))
    .map((f) => `<link rel="modulepreload" href="/${f}">`)
    .join('\n    ');
  const html = template
    .replace('<!-- STYLES -->', `<link rel="stylesheet" href="/${rel(appCss)}">`)
    .replace('<!-- SCRIPTS -->', `${preloads ? `${preloads}\n    ` : ''}<script type="module" src="/${rel(appJs)}"></script>`);
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /<style|\sstyle=/i.test(html)) {
    throw new Error('index.html would contain inline script or style');
  }
  await writeFile(path.join(out, 'index.html'), html);
  // Static files served as they are (the favicon, so browsers do not ask for a missing one).
  for (const name of await readdir(path.join(here, 'src/public'))) {
    await copyFile(path.join(here, 'src/public', name), path.join(out, name));
  }

  let total = 0;
  const rows = [];
  for (const file of (await listFiles(out)).sort()) {
    const name = rel(file);
    const bytes = await readFile(file);
    const gz = gzipSync(bytes, { level: 9 }).length;
    const first = firstLoad.has(name);
    if (first && /\.(js|css)$/.test(name)) total += gz;
    rows.push(`${first ? '*' : ' '} ${name.padEnd(44)} ${String(bytes.length).padStart(9)} B  ${String(gz).padStart(8)} B gz`);
  }
  console.log(rows.join('\n'));
  console.log(`first-load JS+CSS (gzipped, * above): ${(total / 1024).toFixed(1)} KB (budget ${FIRST_LOAD_BUDGET / 1024} KB)`);
  if (total > FIRST_LOAD_BUDGET) throw new Error(`first load is ${total} B gzipped, over the ${FIRST_LOAD_BUDGET} B budget`);
}

main().catch((err) => {
  console.error(`build failed: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
