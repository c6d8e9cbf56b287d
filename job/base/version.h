#ifndef AKSNAP_VERSION_H
#define AKSNAP_VERSION_H
#define AKSNAP_VERSION "0.1.0"
#endif
