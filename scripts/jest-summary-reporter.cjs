// Prints one plain closing line after jest's own summary, e.g. `jest: 386 passed, 0 failed, 0 skipped`,
// so a CI log can be read at a glance. Registered in jest.config.js after the default reporter.
'use strict';
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numRuntimeErrorTestSuites } =
      results;
    const failed = numFailedTests + numRuntimeErrorTestSuites;
    process.stdout.write(
      `jest: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
