// `npm run docs`: regenerates README.md's configuration table from the config model and Pulumi.yaml.
import { writeReadmeTable } from "./lib/config-table";

console.log(writeReadmeTable() ? "README.md: configuration table updated" : "README.md: configuration table already up to date");
