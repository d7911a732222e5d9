// Checks the prerequisites of the local stack before anything else runs, with a clear message.
// Plain JavaScript on purpose: it must run on any Node that can run npm.
import { execFileSync } from 'node:child_process';

const problems = [];
const major = Number(process.versions.node.split('.')[0]);
if (major < 20)
  problems.push(
    `Node ${process.versions.node} is too old: Node >= 20 is needed to run npm (the project pins Node 24 itself).`,
  );
const version = (() => {
  try {
    const result = execFileSync('sh', ['-c', 'java -version 2>&1'], { encoding: 'utf8' });
    const match = /version "(\d+)(?:\.(\d+))?/.exec(result);
    if (!match) return null;
    return match[1] === '1' ? Number(match[2]) : Number(match[1]);
  } catch {
    return null;
  }
})();
if (version === null)
  problems.push(
    'Java was not found: DynamoDB Local needs Java >= 17 on the PATH (e.g. apt-get install openjdk-17-jre-headless).',
  );
else if (version < 17) problems.push(`Java ${version} is too old: DynamoDB Local needs Java >= 17.`);
if (problems.length > 0) {
  console.error('Rein local stack cannot start:\n' + problems.map((p) => `  - ${p}`).join('\n'));
  process.exit(1);
}
