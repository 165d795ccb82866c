export { concentrationAddonUsd, liquidationImpactUsd, oracleAddonUsd } from './addons';
