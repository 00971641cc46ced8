/* xmsg_omemo.h - OMEMO end-to-end encryption (XEP-0384, legacy
 * eu.siacs.conversations.axolotl), in a build with XMSG_OMEMO only.
 *
 * A build with OMEMO links libomemo-c, which is GPL-3: the library and the
 * program built with it are then distributed under the GPL-3 (README). */
#ifndef XMSG_OMEMO_PUBLIC_H
#define XMSG_OMEMO_PUBLIC_H

#include "xmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
