// Samples per second of the page in headless Chromium: `node tests/web/bench.js [swiftshader|lavapipe|js] [N] [SEED]`.
//
// Serves the repository root, loads web/index.html?seed=SEED&count=N&run=1 in Chromium
// with the flags of the chosen adapter, and prints the adapter, the hits and the rate
// computed from piResult.seconds (the counting time, setup excluded).

import { launch, runPage, serve } from "./_browser.js";

const FLAGS = {
  swiftshader: { webgpu: true, extraFlags: [] },
  lavapipe: { webgpu: true, extraFlags: ["--use-angle=vulkan", "--use-webgpu-adapter=opengles"] },
  js: { webgpu: false, extraFlags: [] },
};

const [which = "swiftshader", count = "123456789", seed = "42"] = process.argv.slice(2);
if (!FLAGS[which] || !/^[0-9]+$/.test(count) || !/^[0-9]+$/.test(seed)) {
  console.error("usage: node tests/web/bench.js [swiftshader|lavapipe|js] [N] [SEED]");
  process.exit(2);
}
const server = await serve();
const chrome = await launch(FLAGS[which]);
try {
  const { result, error, page } = await runPage(chrome.browser, `${server.url}/web/index.html?seed=${seed}&count=${count}&run=1`, 600_000);
  await page.close();
  if (error) throw new Error(error);
  const rate = Number(result.samples) / result.seconds;
  console.log(`${which}: ${result.backend} on ${result.adapter}`);
  console.log(`hits ${result.hits} of ${result.samples} samples (seed ${result.seed}) in ${result.seconds.toFixed(3)} s: ${rate.toExponential(2)} samples/s`);
} finally {
  await chrome.close();
  await server.close();
}
