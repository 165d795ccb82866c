/**
 * Reads compiled artifacts shipped in npm packages (Aave's Hardhat artifacts, Optimism's forge
 * artifacts) and links library addresses into bytecode.
 *
 * We deploy the exact bytecode the protocols published rather than recompiling it: what runs on the
 * devnet is what their audits covered. Aave's Pool and PoolConfigurator call external logic libraries,
 * so their bytecode carries `linkReferences` placeholders that must be filled with the addresses of
 * the deployed libraries before deployment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Abi, type Address, type Hex } from 'viem';
import { NetmarginError } from '../common/errors';

const NODE_MODULES = join(__dirname, '..', '..', 'node_modules');

export type LinkReferences = Record<string, Record<string, { start: number; length: number }[]>>;

export interface HardhatArtifact {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
  linkReferences: LinkReferences;
}

function readJson(relPath: string): unknown {
  const full = join(NODE_MODULES, relPath);
  try {
    return JSON.parse(readFileSync(full, 'utf8'));
  } catch (cause) {
    throw new NetmarginError(`Cannot read compiled artifact ${relPath}`, {
      code: 'ARTIFACT_MISSING',
      hint: 'Run `npm ci`: the devnet deploys bytecode shipped in @aave/core-v3, @aave/periphery-v3 and @eth-optimism/contracts-bedrock.',
      details: { path: full },
      cause,
    });
  }
}

/** Aave artifacts live at `<pkg>/artifacts/contracts/<dir>/<Name>.sol/<Name>.json`. */
export function aaveArtifact(
  pkg: '@aave/core-v3' | '@aave/periphery-v3',
  dir: string,
  name: string,
): HardhatArtifact {
  return readJson(`${pkg}/artifacts/contracts/${dir}/${name}.sol/${name}.json`) as HardhatArtifact;
}

/** Deployed (runtime) bytecode of an Optimism contract from its forge artifact. */
export function optimismDeployedBytecode(name: string): Hex {
  const a = readJson(`@eth-optimism/contracts-bedrock/forge-artifacts/${name}.sol/${name}.json`) as {
    deployedBytecode: { object: Hex };
  };
  return a.deployedBytecode.object;
}

/**
 * Fills every library placeholder in `artifact.bytecode`. Throws naming the library if an address is
 * missing, so a new Aave release with another library fails loudly instead of deploying broken code.
 */
export function linkBytecode(artifact: HardhatArtifact, libraries: Record<string, Address>): Hex {
  let code = artifact.bytecode.slice(2);
  for (const [file, libs] of Object.entries(artifact.linkReferences)) {
    for (const [lib, refs] of Object.entries(libs)) {
      const addr = libraries[lib];
      if (!addr) {
        throw new NetmarginError(
          `${artifact.contractName} needs library ${lib} (${file}) which was not deployed`,
          {
            code: 'LINK_MISSING_LIBRARY',
          },
        );
      }
      const hex = addr.slice(2).toLowerCase();
      for (const { start, length } of refs) {
        if (length !== 20)
          throw new NetmarginError(`Unexpected link length ${length} for ${lib}`, { code: 'LINK_BAD_REF' });
        code = code.slice(0, start * 2) + hex + code.slice((start + length) * 2);
      }
    }
  }
  if (code.includes('__$')) {
    throw new NetmarginError(`${artifact.contractName} still has unlinked placeholders`, {
      code: 'LINK_INCOMPLETE',
    });
  }
  return `0x${code}`;
}
