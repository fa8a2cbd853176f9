// Transpile one TypeScript file to CommonJS for %%ts cells (NestJS needs decorator metadata).
// Usage: node transpile.cjs IN.ts OUT.cjs — exits 1 with file:line:col messages on syntax errors.
const fs = require("fs");
const ts = require("typescript");
const [input, output] = process.argv.slice(2);
const source = fs.readFileSync(input, "utf8");
const result = ts.transpileModule(source, {
  fileName: input,
  reportDiagnostics: true,
  compilerOptions: {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    sourceMap: false,
  },
});
const errors = (result.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
if (errors.length) {
  for (const d of errors) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    console.error(`cell.ts:${line + 1}:${character + 1} - error TS${d.code}: ${text}`);
  }
  process.exit(1);
}
fs.writeFileSync(output, result.outputText);
