/** The version --version prints; package.json's (a test holds them together). */
export const VERSION = '0.1.0';
