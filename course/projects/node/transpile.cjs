// Transpile one TypeScript file to CommonJS for %%ts cells (NestJS needs decorator metadata).
// Usage: node transpile.cjs [--typecheck] IN.ts OUT.cjs
// Exits 1 with `cell.ts:line:col - error TSnnnn: message` lines on errors: syntax errors always,
// type errors only with --typecheck (a whole-program check against node_modules' types: seconds,
// not milliseconds, which is why it is opt-in).
const fs = require("fs");
const ts = require("typescript");
const args = process.argv.slice(2);
const typecheck = args[0] === "--typecheck";
const [input, output] = typecheck ? args.slice(1) : args;
const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  sourceMap: false,
};

function report(diagnostics) {
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  for (const d of errors) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file) {
      console.error(`error TS${d.code}: ${text}`);
      continue;
    }
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const name = d.file.fileName === input ? "cell.ts" : d.file.fileName;
    console.error(`${name}:${line + 1}:${character + 1} - error TS${d.code}: ${text}`);
  }
  if (errors.length) process.exit(1);
}

if (typecheck) {
  const program = ts.createProgram([input], {
    ...compilerOptions,
    noEmit: true,
    skipLibCheck: true, // judge the cell, not the packages' own .d.ts files
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: ["node"],
  });
  report(ts.getPreEmitDiagnostics(program));
}
const source = fs.readFileSync(input, "utf8");
const result = ts.transpileModule(source, { fileName: input, reportDiagnostics: true, compilerOptions });
report(result.diagnostics || []);
fs.writeFileSync(output, result.outputText);
