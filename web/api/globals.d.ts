/** The server's version, written into each page at build time (the portal's client version). */
declare const __CMR_VERSION__: string;
