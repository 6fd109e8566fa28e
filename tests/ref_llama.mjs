// llama.cpp's side of the GGUF round trip (test export_gguf_llama_cpp): loads
// an exported GGUF with node-llama-cpp (a build of llama.cpp), tokenizes each
// prompt with llama.cpp's own GPT-2 tokenizer, then feeds loco's prompt ids and
// decodes greedily, recording the chosen token and the raw logits of every
// step.  The C test compares all of it with loco.
//
//   node tests/ref_llama.mjs NODE_MODULES_DIR IN.json OUT.json
// IN:  {"model": "m.gguf", "vocab": V, "steps": 32, "prompts": [{"text": "...", "ids": [...]}, ...]}
// OUT: {"prompts": [{"tokens": [...], "greedy": [...], "logits": [[V floats], ...]}, ...]}
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, inPath, outPath] = process.argv.slice(2);
const entry = path.join(dir, "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const job = JSON.parse(fs.readFileSync(inPath, "utf8"));

// CPU only, never a build from source: the package's prebuilt binaries.
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: job.model });
const V = job.vocab;
const ctx = await model.createContext({ contextSize: model.trainContextSize, batchSize: 256, threads: 1 });
const seq = ctx.getSequence();

// The logits of the next token as an array by id (node-llama-cpp hands back
// a Map sorted by value); a missing or extra id fails the test on the C side.
const byId = (m) => {
    const z = new Array(V).fill(null);
    for (const [tok, v] of m) z[tok] = v;
    if (m.size !== V) z.push(null);
    return z;
};
const next = { generateNext: { token: true, logits: true, options: { temperature: 0 } } };

const out = { prompts: [] };
for (const p of job.prompts) {
    const tokens = Array.from(model.tokenize(p.text, false));
    await seq.clearHistory();
    const greedy = [], logits = [];
    let input = p.ids.map((id, i) => (i + 1 < p.ids.length ? id : [id, next]));
    for (let s = 0; s < job.steps; s++) {
        const res = await seq.controlledEvaluate(input);
        const r = res[input.length - 1].next;
        greedy.push(r.token);
        logits.push(byId(r.logits));
        input = [[r.token, next]];
    }
    out.prompts.push({ tokens, greedy, logits });
}
fs.writeFileSync(outPath, JSON.stringify(out));
await ctx.dispose();
await model.dispose();
await llama.dispose();
