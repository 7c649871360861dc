// TurboJPEG, libjpeg-turbo's API that reports corrupt data as error codes (libjpeg's own
// error_exit needs longjmp, which Swift cannot do).
#include <turbojpeg.h>
