// Renders Vega-Lite specs to SVG without a browser or node-canvas (which vega-cli needs and which
// does not install here): vega-lite compiles the spec to Vega, a headless View with renderer 'none'
// runs the dataflow, and toSVG() serialises the scenegraph.
//
// Usage: node render.mjs IN.vl.json OUT.svg [IN2.vl.json OUT2.svg ...]
// Many pairs in one call, because node start-up and module loading dominate the cost of one chart.
// Each SVG is written to OUT.svg.tmp and renamed, so a failed render never leaves a half-written file.
// Exit code 0 when every pair rendered; 1 (with the failing file named on stderr) otherwise; 2 on bad usage.
import { readFile, writeFile, rename } from 'node:fs/promises';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

async function renderOne(input, output) {
  let spec;
  try {
    spec = JSON.parse(await readFile(input, 'utf8'));
  } catch (e) {
    throw new Error(`${input}: cannot read Vega-Lite spec: ${e.message}`);
  }
  let compiled;
  try {
    compiled = vegaLite.compile(spec).spec;
  } catch (e) {
    throw new Error(`${input}: vega-lite compile failed: ${e.message}`);
  }
  // Specs embed their data (values), so no loader access is needed; deny it to keep renders hermetic.
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    loader: vega.loader({ mode: 'file' }),
    logLevel: vega.Warn,
  });
  const svg = await view.toSVG();
  view.finalize();
  const tmp = output + '.tmp';
  await writeFile(tmp, svg, 'utf8');
  await rename(tmp, output);
}

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0) {
  console.error('usage: node render.mjs IN.vl.json OUT.svg [IN2.vl.json OUT2.svg ...]');
  process.exit(2);
}
let failed = 0;
for (let i = 0; i < args.length; i += 2) {
  try {
    await renderOne(args[i], args[i + 1]);
  } catch (e) {
    failed++;
    console.error(e.message);
  }
}
process.exit(failed === 0 ? 0 : 1);
