// Usage: node page.test.mjs <gateway base url> <screenshot.png> [api key]
// Submits a prompt on the web page in headless Chromium, checks per-stage progress and a preview of the image as it
// forms appear, then the image and the per-stage latency timeline, then the gallery entry, n images at once, then
// image operations on the result; then the page at a phone's width (no sideways scrolling; a second screenshot beside
// the first, -phone.png).
// Exits non-zero with a reason on any failure.
import { chromium } from "playwright-core";

const [base, screenshot, key] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  const seenSteps = new Set(), seenPreviews = new Set();
  await page.goto(base);
  if (key) { await page.fill("#key", key); await page.dispatchEvent("#key", "change"); }
  // The vocabulary hint under the prompt box, read from /v1/vocabulary with the key.
  await page.waitForFunction(() => /shapes: .*circle/.test(document.querySelector("#vocabulary").textContent), null, { timeout: 30000 });
  await page.click("#vocabulary-box summary");
  if (!await page.isVisible("#vocabulary")) throw new Error("the vocabulary does not unfold");
  await page.fill("#prompt", "a small blue circle on a white background");
  await page.selectOption("#size", "256x256");
  await page.fill("#seed", "3");
  // The tiny test cascade runs 25 steps in milliseconds; 1000 base steps keep one stage running for seconds,
  // so the page must show its step counts however fast or slow the machine is.
  if (await page.isVisible("#decoder64-steps")) throw new Error("the stage options are not folded away");
  await page.click("#stage-options summary");
  await page.fill("#decoder64-steps", "1000");
  await page.click("#submit");
  // Progress: every stage row appears, and stages show step counts while they run.
  await page.waitForSelector('#progress [data-stage="sr256"]', { timeout: 60000 });
  const poll = setInterval(async () => {
    const texts = await page.$$eval("#progress .stage", rows => rows.map(r => `${r.dataset.stage} ${r.querySelector(".steps").textContent}`)).catch(() => []);
    for (const text of texts) if (/ step \d+\/\d+$/.test(text)) seenSteps.add(text);
    const preview = await page.$eval("#preview", img => img.hidden ? 0 : img.naturalWidth).catch(() => 0);
    if (preview) seenPreviews.add(preview);
  }, 20);
  await page.waitForSelector("#result:not([hidden])", { timeout: 120000 });
  clearInterval(poll);
  const loaded = await page.$eval("#image", img => img.complete && img.naturalWidth);
  if (loaded !== 256) throw new Error(`image natural width ${loaded}, expected 256`);
  const segments = await page.$$eval("#timeline .segment", s => s.map(x => x.dataset.stage));
  for (const stage of ["text", "prior", "decoder64", "sr256"])
    if (!segments.includes(stage)) throw new Error(`timeline lacks ${stage}: ${segments}`);
  const done = await page.$$eval("#progress .steps", s => s.map(x => x.textContent));
  if (done.some(t => t !== "done")) throw new Error(`stages not all done: ${done}`);
  if (seenSteps.size === 0) throw new Error("never saw per-step progress of a stage");
  // The page asks for previews: the 64 px base showed as it formed, and gave way to the image.
  if (!seenPreviews.has(64)) throw new Error(`never saw a 64 px preview of the image as it formed (saw ${[...seenPreviews]})`);
  if (await page.isVisible("#preview")) throw new Error("the preview still shows beside the finished image");
  const [download, shown, name] = await page.$eval("#download", a => [a.href, document.querySelector("#image").src, a.download]);
  if (download !== shown || !name.endsWith("-seed3.png")) throw new Error(`download link ${download} as ${name}; image ${shown}`);
  await page.click("#random-seed");
  const seed = Number(await page.inputValue("#seed"));
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 4294967295)) throw new Error(`random seed ${seed}`);
  const gallery = await page.$$eval("#gallery figure", f => f.length);
  if (gallery !== 1) throw new Error(`gallery has ${gallery} entries, expected 1`);
  // n = 2 at the model's default steps: two more images with consecutive seeds.
  await page.fill("#decoder64-steps", "");
  await page.selectOption("#size", "64x64");
  await page.fill("#seed", "10");
  await page.selectOption("#n", "2");
  await page.click("#submit");
  await page.waitForFunction(() => document.querySelectorAll("#gallery figure").length === 3 && !document.querySelector("#submit").disabled, null, { timeout: 120000 });
  const message = await page.textContent("#message");
  if (message !== "image 2 of 2: done") throw new Error(`after n = 2 the page says "${message}"`);
  const lastName = await page.$eval("#download", a => a.download);
  if (!lastName.endsWith("-seed11.png")) throw new Error(`the second image's download is named ${lastName}`);
  // Image operations on the generated image: variations (two images), a text diff refused without its source
  // caption (the message names the field), then run with it, then inpainting of a painted stroke.
  await page.click("#use-image");
  await page.selectOption("#edit-operation", "variation");
  await page.click("#edit-submit");
  await page.waitForFunction(() => document.querySelectorAll("#edit-result img").length === 2 && document.querySelector("#edit-message").textContent.startsWith("done"), null, { timeout: 120000 });
  await page.selectOption("#edit-operation", "textdiff");
  if (await page.isHidden("#edit-source")) throw new Error("the text diff's source caption field is hidden");
  if (await page.isVisible("#edit-strength")) throw new Error("SDEdit's strength shows for a text diff");
  await page.fill("#edit-prompt", "a small red circle on a white background");
  await page.click("#edit-submit");
  await page.waitForFunction(() => document.querySelector("#edit-message").className === "error", null, { timeout: 60000 });
  const refused = await page.textContent("#edit-message");
  if (!refused.includes("source_caption is required")) throw new Error(`text diff without a source caption: "${refused}"`);
  await page.fill("#edit-source", "a small blue circle on a white background");
  await page.click("#edit-submit");
  await page.waitForFunction(() => document.querySelector("#edit-message").textContent.startsWith("done"), null, { timeout: 120000 });
  const edited = await page.$$eval("#edit-result img", imgs => imgs.map(i => i.complete && i.naturalWidth));
  if (edited.length !== 1 || edited[0] !== 64) throw new Error(`text diff result images: ${edited}`);
  // Inpainting with a painted mask: a stroke across the middle of the image, redrawn from the prompt.
  await page.selectOption("#edit-operation", "inpaint");
  if (await page.isHidden("#mask-canvas")) throw new Error("the mask canvas is hidden for inpainting");
  await page.fill("#edit-prompt", "a small red circle on a white background");
  const box = await page.locator("#mask-canvas").boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.3 + 0.04 * i), box.y + box.height / 2);
  await page.mouse.up();
  const red = await page.$eval("#mask-canvas", c => c.getContext("2d").getImageData(128, 128, 1, 1).data[0]);
  if (red < 128) throw new Error(`the painted stroke does not show on the image (red ${red})`);
  await page.click("#edit-submit");
  await page.waitForFunction(() => document.querySelector("#edit-message").textContent.startsWith("done")
    && document.querySelector("#edit-result img")?.alt === "inpaint result", null, { timeout: 120000 });
  const inpainted = await page.$$eval("#edit-result img", imgs => imgs.map(i => i.complete && i.naturalWidth));
  if (inpainted.length !== 1 || inpainted[0] !== 64) throw new Error(`inpainting result images: ${inpainted}`);
  await page.screenshot({ path: screenshot, fullPage: true });
  // A phone's width: everything wraps, nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`at 390 px wide the page scrolls sideways by ${overflow} px`);
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-phone.png"), fullPage: true });
  console.log(`ok: saw ${seenSteps.size} step counts (first ${[...seenSteps][0]}); timeline ${segments.join(",")}; n = 2; variations, a text diff and a painted inpainting of the result; phone width; screenshots ${screenshot} and its -phone.png`);
} finally {
  await browser.close();
}
