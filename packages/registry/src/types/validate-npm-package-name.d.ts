// validate-npm-package-name (npm's own name rules) ships no types.
declare module 'validate-npm-package-name' {
  interface NameVerdict {
    validForNewPackages: boolean
    validForOldPackages: boolean
    errors?: string[]
    warnings?: string[]
  }
  export default function validate(name: string): NameVerdict
}
