// Mocha's spec reporter, plus one closing line in the plain form CI tooling reads:
// "N passed, N failed" (", N skipped" when some were).
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once("end", () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(`\ntests: ${passes} passed, ${failures} failed${pending > 0 ? `, ${pending} skipped` : ""}\n`);
    });
  }
}

module.exports = SummaryReporter;
