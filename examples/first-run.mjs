// Logs a first run to a Kiln server (default http://127.0.0.1:5000, or $KILN_TRACKING_URI).
//   npm start            # in another terminal
//   node examples/first-run.mjs
import { Kiln } from '@kiln-mlops/sdk';

const kiln = new Kiln();
const runId = await kiln.withRun({ experiment: 'quickstart', runName: 'first-run', params: { lr: 0.01, epochs: 20 } }, async (run) => {
  for (let epoch = 0; epoch < 20; epoch++) {
    run.logMetrics({ loss: 1 / (epoch + 1), accuracy: 1 - 0.5 / (epoch + 1) }, epoch);
  }
  await run.logText(JSON.stringify({ classes: ['cat', 'dog'] }, null, 2), 'meta/classes.json');
  return run.id;
});
console.log(`logged run ${runId}; try: npx kiln runs get ${runId}`);
